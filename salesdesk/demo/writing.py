"""What the demo's salespeople write about a customer: a follow-up text chosen for the
phase of the deal, the customer's source and the day, with the customer's details filled
in; amounts and dates written the way they write them."""

from datetime import timedelta
from decimal import Decimal

from .words import (
    BUSY,
    CONCERNS,
    FEEDBACK,
    MUNICIPALITIES,
    PAY_TERMS,
    STRENGTHS,
    TEMPLATES,
    TERRITORIES,
    TOP_TITLES,
)
from .workdays import day_off


class Writer:
    """Writes for the planner's stories, with the planner's random generator."""

    def __init__(self, rng, customers):
        self.rng = rng
        self.customers = customers  # for an amount when the customer has none

    def fill(self, text, story, day=None, next_day=None):
        people = story.people
        top = next((p for title in TOP_TITLES for p in people if p.title == title), None)
        if top is None:
            boss, audience, top_name = "老板", f"{people[0].honorific}和老板", "对方老板"
        elif top is people[0]:
            boss, audience, top_name = top.honorific, f"{top.honorific}及管理层", top.honorific
        else:
            boss = top_name = top.honorific
            audience = f"{people[0].honorific}和{top.honorific}"
        amount = Decimal(story.data.expected_amount) or self.customers.amount(story.data.grade)
        needs = self.rng.sample(story.sector.needs, 3)
        concerns = self.rng.sample(CONCERNS, 2)
        territory = TERRITORIES[story.team.name]
        others = [
            f"{province}{city}" if province in MUNICIPALITIES else city
            for province, (_w, cities) in territory.items()
            for city in cities
            if city != story.data.city
        ]
        values = {
            "who": people[0].honorific,
            "who2": people[1].honorific
            if len(people) > 1
            else ("合伙人" if story.data.kind == "person" else "IT负责人"),
            "boss": boss,
            "audience": audience,
            "top": top_name,
            "product": story.sector.product,
            "short": story.sector.short,
            "site": story.sector.site,
            "objects": story.sector.objects,
            "pain": story.sector.pain,
            "unit": story.sector.unit,
            "feature": self.rng.choice(story.sector.features),
            "need1": needs[0],
            "need2": needs[1],
            "need3": needs[2],
            "module": self.rng.choice(story.sector.modules),
            "place": story.place,
            "other_city": self.rng.choice(others),
            "seats": story.seats,
            "amount": _wan(amount),
            "amount2": _wan(_round(amount * Decimal("0.85"), 1000)),
            "budget": _wan(max(_round(amount * Decimal("0.9"), 10_000), Decimal(10_000))),
            "concern": concerns[0],
            "concern2": concerns[1],
            "busy": self.rng.choice(BUSY),
            "strength": self.rng.choice(STRENGTHS),
            "weeks": self.rng.randint(4, 10),
            "pay_terms": self.rng.choice(PAY_TERMS),
            "system": story.system,
            "feedback": self.rng.choice(FEEDBACK),
            "owner": story.owner.display_name if story.owner else "",
            "when": _when(day, next_day) if next_day else "",
        }
        return text.format(**values)

    def template(self, story, phase, day, next_day, index=None):
        choices = TEMPLATES[phase]
        if index is not None and index < 3:
            return choices[index]
        if index is not None:
            choices = choices[3:]
        source = story.data.source
        usable = [t for t in choices if not t.sources or source in t.sources] or choices
        if next_day is None or day_off(next_day):  # nobody plans a call "下周日"
            usable = [t for t in usable if "{when}" not in t.content] or usable
        if day_off(day):  # a call or a WeChat message, not a visit
            usable = [t for t in usable if t.channel in ("phone", "wechat")] or usable
        if story.people[0].title in TOP_TITLES or story.data.kind == "person":
            usable = [t for t in usable if "老板" not in t.content] or usable
        fresh = [t for t in usable if t.content not in story.used] or usable
        template = self.rng.choice(fresh)
        story.used.add(template.content)
        return template


def _round(amount, step):
    return (Decimal(amount) / step).quantize(Decimal(1)) * step


def _wan(amount):
    """128000 -> 12.8万元; 9800 -> 9800元"""
    amount = Decimal(amount)
    if amount < 10_000:
        return f"{int(amount)}元"
    text = f"{amount / 10_000:.2f}".rstrip("0").rstrip(".")
    return f"{text}万元"


def _when(day, next_day):
    """How a salesperson writes a date relative to today: 明天, 本周五, 下周三, 5月12日."""
    delta = (next_day - day).days
    if delta <= 0:
        return "今天"
    if delta == 1:
        return "明天"
    if delta == 2:
        return "后天"
    weeks = (next_day - (day - timedelta(days=day.weekday()))).days // 7
    name = "周" + "一二三四五六日"[next_day.weekday()]
    if weeks == 0:
        return "本" + name
    if weeks == 1:
        return "下" + name
    return f"{next_day.month}月{next_day.day}日"
