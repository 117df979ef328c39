"""Chinese company names taken apart, and the trade-name (字号) rule of the duplicate check.

A registered name is region + trade name + industry + organisation form (名称 = 行政区划 +
字号 + 行业或经营特点 + 组织形式): 金华 · 浙宏 · 自动化设备 · 有限公司. The region may also
follow in parentheses (浙宏自动化（金华）有限公司), and a branch adds its place and 分公司
(浙宏自动化设备有限公司金华分公司). People write one company in many ways — 浙宏,
金华浙宏, 浙宏自动化 — and the trade name is what stays; the industry words differ
between records of one company more often (科技 / 技术, 自动化 / 自动化设备). So the rule
compares the parts separately: the trade names must be the same or one must contain
the other, and then the industries must not name two different businesses, nor the
regions two different places (unless the businesses agree). The word lists are
data/company_words.json.
"""

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from . import keys, search

DATA = Path(__file__).resolve().parent / "data" / "company_words.json"

# Reasons the rule gives (duplicates.MATCH_REASONS labels them).
SAME_TRADE_NAME = "trade_name"
TRADE_NAME_CONTAINED = "trade_name_part"

# A trade name this short says nothing (宏, 华): it never warns.
MIN_TRADE_NAME = 2

_HAN = re.compile(r"[\u3400-\u9fff]")
_PARENTHESES = re.compile(r"\(([^()]*)\)")
_NOT_ALNUM = re.compile(r"[\W_]+")


class _Vocabulary:
    """Words looked up at the start or the end of a text: one set lookup a length, the
    longest first (a scan of the ~1,000 places took 250 µs a name)."""

    def __init__(self, words):
        self.words = frozenset(words)
        self.lengths = sorted({len(word) for word in self.words}, reverse=True)

    def __contains__(self, word):
        return word in self.words

    def __iter__(self):
        return iter(self.words)

    def prefix(self, text):
        for n in self.lengths:
            if n <= len(text) and text[:n] in self.words:
                return text[:n]
        return None

    def suffix(self, text, keep=0):
        """The longest word text ends with, leaving at least `keep` characters before it."""
        for n in self.lengths:
            if n <= len(text) - keep and text[-n:] in self.words:
                return text[-n:]
        return None


@dataclass(frozen=True)
class _Words:
    provinces: dict  # place (province, city, district) -> its province
    places: _Vocabulary
    region_marks: _Vocabulary
    industry: _Vocabulary
    generic_industry: frozenset
    synonyms: dict
    forms: _Vocabulary
    branch: _Vocabulary
    generic_trade_names: frozenset


@cache
def words():
    data = json.loads(DATA.read_text(encoding="utf-8"))
    provinces = {}
    for province, places in data["regions"].items():
        for place in places.split():
            provinces.setdefault(place, province)
    # keys.py's lists too, so that every region the name key drops is a region here.
    for province in keys.PROVINCES:
        provinces[province] = province
    for city in keys.CITIES:
        provinces.setdefault(city, None)
    for province in data["regions"]:
        provinces[province] = province
    return _Words(
        provinces=provinces,
        places=_Vocabulary(provinces),
        region_marks=_Vocabulary(data["region_marks"].split()),
        industry=_Vocabulary(data["industry"].split()),
        generic_industry=frozenset(data["generic_industry"].split()),
        synonyms=data["synonyms"],
        forms=_Vocabulary(data["forms"].split()),
        branch=_Vocabulary(data["branch"].split()),
        generic_trade_names=frozenset(data["generic_trade_names"].split()) | frozenset(provinces),
    )


@dataclass(frozen=True)
class CompanyName:
    """The parts of one name. `region` is the place the company is registered in (金华),
    `branch` the place of a branch (浙宏有限公司金华分公司 → 金华; "" for a branch whose
    place is not named), `industry` the industry words as written (自动化, 设备)."""

    trade: str
    industry: tuple = ()
    region: str | None = None
    form: str | None = None
    branch: str | None = None

    @property
    def distinctive(self):
        """A trade name that can tell one company from another: two characters or more,
        and not a word any company may use (中国, 国际, 华东) or a place (北京银行)."""
        return len(self.trade) >= MIN_TRADE_NAME and self.trade not in words().generic_trade_names

    @property
    def businesses(self):
        """The industry words that name a business (自动化, 设备), synonyms folded."""
        folded = {words().synonyms.get(word, word) for word in self.industry}
        return frozenset(word for word in folded if word not in words().generic_industry)

    @property
    def generic_industry(self):
        folded = {words().synonyms.get(word, word) for word in self.industry}
        return frozenset(word for word in folded if word in words().generic_industry)

    @property
    def province(self):
        return words().provinces.get(self.region) if self.region else None


def _strip_form(text):
    """The text without its organisation forms at the end, and the outermost form."""
    form = None
    while suffix := words().forms.suffix(text, keep=1):
        text = text[: -len(suffix)]
        form = form or suffix
    return text, form


def _region_at(text, start=True):
    """(the place, its length with a mark such as 市 or 自治区) at the start or the end of
    text, or (None, 0)."""
    if start:
        place = words().places.prefix(text)
        mark = words().region_marks.prefix(text[len(place) :]) if place else None
        return place, len(place or "") + len(mark or "")
    mark = words().region_marks.suffix(text) or ""
    place = words().places.suffix(text[: len(text) - len(mark)])
    if place is None and mark:
        mark, place = "", words().places.suffix(text)
    return place, len(place or "") + len(mark)


def _region_only(text):
    place, length = _region_at(text)
    return place if place and length == len(text) else None


def _peel_industry(text):
    """(trade name, industry words in order) — industry words peeled off the end while
    at least one character of trade name is left."""
    industry = []
    while word := words().industry.suffix(text, keep=1):
        text = text[: -len(word)]
        industry.insert(0, word)
    return text, tuple(industry)


def _leading_regions(text):
    """[(region, rest)] for each leading place dropped, innermost last: 浙江省金华市浙宏…
    gives (浙江, 金华市浙宏…) then (金华, 浙宏…). At most two."""
    found = []
    for _ in range(2):
        place, length = _region_at(text)
        if not place or len(text) - length < MIN_TRADE_NAME:
            break
        text = text[length:]
        found.append((place, text))
    return found


def _split_trade(text):
    trade, industry = _peel_industry(text)
    if trade in words().industry:  # 科技有限公司: no trade name at all
        return "", (trade, *industry)
    return trade, industry


def _parse_core(text):
    """Region, trade name and industry of a name without its form, parentheses or branch.
    A leading place counts as the region only when a trade name of two characters is
    left after it (上海浦东发展银行: 上海 and 浦东; 北京银行: 北京 is the trade name)."""
    for region, rest in reversed(_leading_regions(text)):
        trade, industry = _split_trade(rest)
        if len(trade) >= MIN_TRADE_NAME:
            return region, trade, industry
    return None, *_split_trade(text)


@lru_cache(maxsize=4096)
def _parse_cached(text):
    if not _HAN.search(text):
        return CompanyName(trade="")  # Latin names are left to the similarity check
    region = branch = form = None
    # Parenthesised parts: a region (浙宏（金华）), a form (（有限合伙）), a branch mark.
    for inner in _PARENTHESES.findall(text):
        if place := _region_only(inner):
            region = region or place
        elif inner in words().branch:
            branch = ""
        elif inner in words().forms:
            form = form or inner
    text = _PARENTHESES.sub(lambda m: "" if _dropped(m.group(1)) else m.group(1), text)
    text = _NOT_ALNUM.sub("", text)
    # A branch: …有限公司金华分公司, …自动化金华分公司, …分公司.
    if mark := words().branch.suffix(text, keep=1):
        text = text[: -len(mark)]
        place, length = _region_at(text, start=False)
        if place and len(text) - length >= MIN_TRADE_NAME:
            text = text[:-length]
        branch = place or ""
    text, outer_form = _strip_form(text)
    leading, trade, industry = _parse_core(text)
    return CompanyName(
        trade=trade, industry=industry, region=leading or region, form=outer_form or form, branch=branch
    )


def _dropped(inner):
    return bool(_region_only(inner) or inner in words().branch or inner in words().forms) or (
        inner in words().generic_trade_names
    )


def parse(name):
    """The parts of a company name as typed or stored (any width, Traditional or
    Simplified, any punctuation)."""
    return _parse_cached(keys.simplify(name or ""))


def parse_key(name_key):
    """The parts of a name key (keys.company_key: already simplified, without form and
    leading region): how the index files a stored name without reading it again."""
    return _parse_cached(name_key)


# ---- the rule ---------------------------------------------------------------------------


def trade_names_meet(query, other):
    """SAME_TRADE_NAME or TRADE_NAME_CONTAINED when one trade name is the other or sits at
    the start or end of it (浙宏 in 浙宏智造, in 义乌浙宏), else None."""
    if not (query.distinctive and other.distinctive):
        return None
    if query.trade == other.trade:
        return SAME_TRADE_NAME
    shorter, longer = sorted((query.trade, other.trade), key=len)
    if longer.startswith(shorter) or longer.endswith(shorter):
        return TRADE_NAME_CONTAINED
    return None


def trade_names_alike(query, other):
    """False when two names that look alike as a whole have trade names that do not:
    迪柏环保信息技术 and 迪环环保信息技术 share their industry, not their trade name.
    Alike: one meets the other, or they differ in one character at one place — of two
    characters, one that sounds the same (浙宏 / 浙鸿, the input method's slip: any one
    character apart would be half of every two-character name). When either has no
    distinctive trade name, nothing is known against them."""
    if not (query.distinctive and other.distinctive) or trade_names_meet(query, other):
        return True
    a, b = query.trade, other.trade
    if len(a) != len(b):
        return False
    apart = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    if len(apart) != 1:
        return False
    return len(a) > MIN_TRADE_NAME or search.pinyin(apart[0][0]) == search.pinyin(apart[0][1])


def _regions_differ(a, b):
    """Two named places that cannot be one (杭州 and 金华; not 浙江 and 金华)."""
    if not (a.region and b.region) or a.region == b.region:
        return False
    province_a, province_b = a.province, b.province
    if province_a and province_b and province_a != province_b:
        return True
    # One province, or unknown: they differ when neither is the province itself.
    return a.region not in (province_a, province_b) and b.region not in (province_a, province_b)


def trade_name_warning(query, other):
    """Why `other` may be the company `query` names (a reason above), or None.

    The trade names must meet; then the industries are compared apart. A shared business
    word (自动化) is enough, even across regions (a branch, an office elsewhere). Two
    different businesses (机械 and 食品, 生物 and 环保) are two companies, and so are two
    industries with no word in common (科技 and 贸易). An industry missing on one side
    (浙宏, 金华浙宏) or only general words in common (科技 and 网络科技) leave it to the
    regions: two different places are two companies, unless one of them is a branch."""
    reason = trade_names_meet(query, other)
    if reason is None:
        return None
    businesses, others = query.businesses, other.businesses
    if businesses & others:
        return reason
    if businesses and others:
        return None
    if query.industry and other.industry and not (query.generic_industry & other.generic_industry):
        return None  # 科技 and 贸易, 科技 and 机械: nothing in common
    if query.branch is None and other.branch is None and _regions_differ(query, other):
        return None
    return reason


def search_fragments(query):
    """What to look for in the name keys to find the trade names that meet `query`'s:
    {fragment: only at the start of a key?}. Its trade name anywhere (浙宏 in 浙宏自动化设备,
    in 义乌浙宏…), and a trade name inside it at the start of a key (浙宏 for 浙宏智造)."""
    trade = query.trade
    fragments = {trade: False}
    for n in range(MIN_TRADE_NAME, len(trade)):
        fragments.setdefault(trade[:n], True)
        fragments.setdefault(trade[-n:], True)
    return fragments
