"""The words the demo is made of, read once from data/*.toml into Python values: the
company's staff, where customers are, their names and trades, the people there, what
salespeople write, the knowledge base, recognition and the rules' messages. Plain
Python values, no app imports: the bench seeders reuse them too."""

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple


def read(name):
    return tomllib.loads((resources.files(__package__) / "data" / f"{name}.toml").read_text("utf-8"))


def _pairs(text):
    """ "恒达:hengda 华盛:huasheng" -> [("恒达", "hengda"), ("华盛", "huasheng")]"""
    return [tuple(item.split(":")) for item in text.split()]


# ---- the demo company ------------------------------------------------------------------

_company = read("company")
ADMIN = _company["admin"]  # [login, name]
# team name -> manager, support, reps (the last rep is the newest hire)
TEAMS = _company["teams"]

# ---- places -----------------------------------------------------------------------------

_places = read("places")
MUNICIPALITIES = set(_places["municipalities"].split())
# team name -> province -> (weight, cities; districts for municipalities)
TERRITORIES = {
    team: {province: (place["weight"], place["cities"].split()) for province, place in provinces.items()}
    for team, provinces in _places["territories"].items()
}
# city -> (telephone area code, administrative division code used in credit codes)
CITY_CODES = {city: (codes["area_code"], codes["division"]) for city, codes in _places["cities"].items()}

# ---- company names ----------------------------------------------------------------------

_names = read("names")
BRANDS = _pairs(_names["brands"])
REGION_MARKS = {province: _pairs(mark)[0] for province, mark in _names["region_marks"].items()}
CITY_MARKS = {city: _pairs(mark)[0] for city, mark in _names["city_marks"].items()}
MARK_SECONDS = _pairs(_names["mark_seconds"])
AWKWARD_BRANDS = set(_names["awkward_brands"].split())

# ---- trades -----------------------------------------------------------------------------


@dataclass
class Sector:
    """An industry as the form offers it, with what a salesperson talks about there
    (data/trades.toml says what each field is)."""

    weight: int
    words: list
    short: str
    product: str
    site: str
    objects: str
    pain: str
    unit: str
    features: list
    needs: list
    modules: list
    titles: list


_trades = read("trades")
_SECTOR_LISTS = ("words", "features", "needs", "modules", "titles")
SECTORS = {
    name: Sector(**{key: value.split() if key in _SECTOR_LISTS else value for key, value in fields.items()})
    for name, fields in _trades["sectors"].items()
}
INDUSTRIES = list(SECTORS)
SCHOOL_WORDS = tuple(_trades["school_words"].split())
SMALL_WORDS = (*SCHOOL_WORDS, *_trades["small_words"].split())

# ---- people -----------------------------------------------------------------------------

_people = read("people")
SURNAMES = _pairs(_people["surnames"])
REGIONAL_SURNAMES = {team: names.split() for team, names in _people["regional_surnames"].items()}
MALE_NAMES = _people["male_names"].split()
FEMALE_NAMES = _people["female_names"].split()
# (title, weight)
FIRST_TITLES = list(_people["first_titles"].items())
OTHER_TITLES = list(_people["other_titles"].items())
HOSPITAL_TITLES = list(_people["hospital_titles"].items())
TOP_TITLES = _people["top_titles"].split()
MOBILE_PREFIXES = _people["mobile_prefixes"].split()

# ---- what salespeople write ---------------------------------------------------------------


class Template(NamedTuple):
    channel: str
    content: str
    next_step: str
    sources: tuple = ()  # the customer sources it fits; empty: any


def _template(item):
    return Template(item["channel"], item["content"], item["next_step"], tuple(item.get("sources", ())))


def _templates(phases):
    """phase -> [Template]; a phase is a name ("attempt", "won" …) or (enter|ongoing, stage)."""
    templates = {}
    for phase, entries in phases.items():
        if isinstance(entries, dict):
            for stage, items in entries.items():
                templates[(phase, stage)] = [_template(item) for item in items]
        else:
            templates[phase] = [_template(item) for item in entries]
    return templates


_writing = read("follow_ups")
TEMPLATES = _templates(_writing["templates"])
CONCERNS = _writing["concerns"]
BUSY = _writing["busy"]
STRENGTHS = _writing["strengths"]
PAY_TERMS = _writing["pay_terms"]
SYSTEMS = _writing["systems"]
FEEDBACK = _writing["feedback"]
NOTES = _writing["notes"]
LEAD_NOTES = _writing["lead_notes"]
PERSON_NOTES = _writing["person_notes"]
ASSIGN_NOTES = _writing["assign_notes"]
CLAIM_NOTES = _writing["claim_notes"]
RELEASE_NOTES = _writing["release_notes"]
CROSS_TEAM_REQUEST = _writing["request_messages"]["cross_team"]
SAME_TEAM_REQUESTS = _writing["request_messages"]["same_team"]

# ---- the knowledge base -------------------------------------------------------------------

_kb = read("kb")
# category -> [(title, tags, playbook stages, Markdown body)]
ARTICLES = {
    category: [(item["title"], item["tags"], item["stages"], item["body"]) for item in items]
    for category, items in _kb["articles"].items()
}
# (title, (old, new) in the body, note, major)
EDITS = [(edit["title"], (edit["old"], edit["new"]), edit["note"], edit["major"]) for edit in _kb["edits"]]
DRAFT = _kb["draft"]
PROPOSAL = _kb["proposal"]
PATH_NAME = _kb["path"]["name"]
PATH_DESCRIPTION = _kb["path"]["description"]
PATH_TITLES = _kb["path"]["titles"]
VOTE_COMMENTS = {True: _kb["vote_comments"]["helpful"], False: _kb["vote_comments"]["unhelpful"]}

# ---- recognition and the rules ------------------------------------------------------------

_recognition = read("recognition")
AWARD_REASONS = _recognition["award_reasons"]  # category -> reasons
THANKS = _recognition["thanks"]  # [reason, category]
MUTUAL_THANKS = _recognition["mutual_thanks"]
REVERSAL_REASON = _recognition["reversal_reason"]

_rules = read("rules")
COLLISION_REASON = _rules["collision_reason"]
COLLABORATION_MESSAGE = _rules["collaboration_message"]
