"""Who the demo's customers are: companies with names distinct from each other (and
not too similar, as the duplicate check sees them) and individuals, in the teams'
territories and trades, with contacts whose phones and e-mails are unique, credit codes,
amounts and tags. Made up from the word lists with the planner's random generator."""

from dataclasses import dataclass, field
from decimal import Decimal

from rapidfuzz import fuzz, process

from ..ledger import keys, search
from ..ledger.models import Stage
from ..ledger.validation import ContactInput, CustomerInput
from .words import (
    AWKWARD_BRANDS,
    BRANDS,
    CITY_CODES,
    CITY_MARKS,
    FEMALE_NAMES,
    FIRST_TITLES,
    HOSPITAL_TITLES,
    MALE_NAMES,
    MARK_SECONDS,
    MOBILE_PREFIXES,
    MUNICIPALITIES,
    OTHER_TITLES,
    REGION_MARKS,
    REGIONAL_SURNAMES,
    SCHOOL_WORDS,
    SECTORS,
    SMALL_WORDS,
    SURNAMES,
    TERRITORIES,
)

# What customers are like: grades (A-D) by the stage they reach, amounts and seats by
# grade, how they found us.
GRADE_WEIGHTS = {
    Stage.LEAD: (5, 20, 45, 30),
    Stage.CONTACTED: (8, 25, 45, 22),
    Stage.QUALIFIED: (12, 33, 40, 15),
    Stage.QUOTED: (15, 38, 35, 12),
    Stage.NEGOTIATING: (22, 40, 30, 8),
    Stage.WON: (18, 37, 35, 10),
    Stage.LOST: (10, 30, 40, 20),
}
AMOUNTS = {"A": (300_000, 1_800_000), "B": (100_000, 400_000), "C": (30_000, 120_000), "D": (8_000, 30_000)}
SEATS = {"A": (100, 400), "B": (40, 150), "C": (10, 50), "D": (3, 15)}
SOURCES = [
    ("cold_call", 30),
    ("referral", 20),
    ("exhibition", 18),
    ("website", 10),
    ("advertising", 8),
    ("other", 14),
]


def pick(rng, weighted):
    """One of [(item, weight), …], as likely as its weight."""
    items, weights = zip(*weighted, strict=True)
    return rng.choices(items, weights=weights)[0]


@dataclass
class Person:
    surname: str
    surname_pinyin: str
    given: str
    female: bool
    title: str = ""
    phones: list = field(default_factory=list)
    email: str = ""
    wechat: str = ""

    @property
    def name(self):
        return self.surname + self.given

    @property
    def honorific(self):
        """How a salesperson refers to them: 王总, 李经理, 张主任, 刘婷 …"""
        title = self.title
        if any(word in title for word in ("总经理", "董事长", "总监", "总工")) and "助理" not in title:
            return self.surname + "总"
        if "个体" in title:
            return self.surname + "老板"
        for word in ("院长", "校长", "厂长", "店长", "主任"):
            if word in title:
                return self.surname + word
        if "经理" in title and "助理" not in title:
            return self.surname + "经理"
        if "主管" in title:
            return self.surname + "主管"
        if title:
            return self.name
        return self.surname + ("女士" if self.female else "先生")


class CustomerMaker:
    """Makes up customers one after the other, each distinct from those before."""

    def __init__(self, rng, similarity):
        self.rng = rng
        self.similarity = similarity * 100
        self.name_keys = []
        self.phones = set()
        self.emails = set()
        self.codes = set()

    def customer(self, team, stage, *, grade=None, source=None, person=False):
        """(data, people, sector, place, seats) of a new customer of `team` that will
        reach `stage`: a company, or an individual (个体户) when `person`."""
        sector_name = self.sector()
        sector = SECTORS[sector_name]
        grade = grade or pick(self.rng, zip("ABCD", GRADE_WEIGHTS[stage], strict=True))
        source = source or pick(self.rng, SOURCES)
        if person:
            province, city = self.region(team)
            owner = self.person(team, "个体经营")
            self.reach(owner, city, None, first=True)
            people, name, school = [owner], owner.name, False
            sector_name = self.rng.choice(["餐饮酒店", "批发零售", "汽车"])
            sector, grade = SECTORS[sector_name], self.rng.choice("CD")
        else:
            name, province, city, domain, school = self.company(team, sector_name, grade)
            hospital = "医院" in name
            people = self.contacts(team, sector, city, domain, grade, hospital)
        place = province if province in MUNICIPALITIES else city
        seats = self.rng.randint(2, 6) if person else self.rng.randint(*SEATS[grade])
        data = CustomerInput(
            name=name,
            kind="person" if person else "company",
            credit_code=self.credit_code(city, school) if not person and self.rng.random() < 0.4 else "",
            industry=sector_name,
            province=province,
            city=city,
            source=source,
            grade=grade,
            stage=Stage.LEAD,
            expected_amount=self.amount(grade)
            if stage != Stage.LEAD or self.rng.random() < 0.5
            else Decimal("0.00"),
            contacts=[
                ContactInput(
                    name=p.name, title=p.title, phones=list(p.phones), email=p.email, wechat=p.wechat
                )
                for p in people
            ],
        )
        data.tags = self.tags(sector_name, grade, stage, source, name)
        return data, people, sector, place, seats

    def region(self, team):
        territory = TERRITORIES[team.name]
        province = pick(self.rng, [(name, weight) for name, (weight, _cities) in territory.items()])
        return province, self.rng.choice(territory[province][1])

    def sector(self):
        return pick(self.rng, [(name, sector.weight) for name, sector in SECTORS.items()])

    def brand(self, province, city):
        roll = self.rng.random()
        if roll < 0.08 and city in CITY_MARKS:
            mark = CITY_MARKS[city]
        elif roll < 0.22:
            mark = REGION_MARKS[province]
        else:
            return self.rng.choice(BRANDS)
        second = self.rng.choice([pair for pair in MARK_SECONDS if mark[0] + pair[0] not in AWKWARD_BRANDS])
        return mark[0] + second[0], mark[1] + second[1]

    def company(self, team, sector_name, grade):
        """(name, province, city, domain, is_school): distinct from every other name."""
        sector = SECTORS[sector_name]
        for _attempt in range(200):
            province, city = self.region(team)
            word = self.rng.choice([w for w in sector.words if grade != "A" or w not in SMALL_WORDS])
            brand, brand_pinyin = self.brand(province, city)
            prefix = province if province in MUNICIPALITIES else city
            school = word in SCHOOL_WORDS
            roll = self.rng.random()
            if school:
                name = f"{prefix}市{brand}{word}" if roll < 0.5 else f"{prefix}{brand}{word}"
            elif grade == "A" and roll < 0.35:
                form = "集团有限公司" if self.rng.random() < 0.5 else "股份有限公司"
                name = f"{province}{brand}{word}{form}"
            elif roll < 0.55:
                name = f"{prefix}{brand}{word}有限公司"
            elif roll < 0.68:
                name = f"{prefix}市{brand}{word}有限公司"
            elif roll < 0.8:
                name = f"{brand}{word}（{prefix}）有限公司"
            elif roll < 0.9:
                name = f"{prefix}{brand}{word}有限责任公司"
            else:
                name = f"{province}{brand}{word}股份有限公司"
            key = keys.company_key(name)
            if key in self.name_keys or process.extractOne(
                key, self.name_keys, scorer=fuzz.ratio, score_cutoff=self.similarity
            ):
                continue
            self.name_keys.append(key)
            initials = "".join(search.pinyin(word, initials=True))[:2]
            tld = pick(self.rng, [("com", 6), ("cn", 2), ("com.cn", 2)])
            domain = (
                f"{brand_pinyin}{initials}.{tld}"
                if self.rng.random() < 0.7
                else f"{brand_pinyin}-{initials}.com"
            )
            return name, province, city, domain, school
        raise RuntimeError("ran out of company names")

    def credit_code(self, city, school):
        """A well-formed 统一社会信用代码: registering authority, division, organisation code
        (GB 11714, with its own check character) and the GB 32100 check character."""
        letters = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        while True:
            if self.rng.random() < 0.55:  # newer registrations: MA…
                body = (
                    "MA" + self.rng.choice("123456789") + "".join(self.rng.choice(letters) for _ in range(5))
                )
            else:
                body = "".join(self.rng.choice("0123456789") for _ in range(8))
            values = [int(ch) if ch.isdigit() else ord(ch) - 55 for ch in body]
            check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
            organisation = body + {10: "X", 11: "0"}.get(check, str(check))
            first17 = ("52" if school else "91") + CITY_CODES[city][1] + organisation
            code = first17 + keys.credit_code_check_char(first17)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def mobile(self):
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                if self.rng.random() < 0.2:
                    return f"{number[:3]} {number[3:7]} {number[7:]}"
                return number

    def landline(self, city):
        area = CITY_CODES[city][0]
        while True:
            # Big cities' numbers start with 5 or 6 (021-5xxxxxxx); elsewhere anything from 2 to 8.
            first = self.rng.choice("56" if len(area) == 3 else "2345678")
            local = first + f"{self.rng.randrange(10**7):07d}"
            if area + local not in self.phones:
                self.phones.add(area + local)
                return f"{area}-{local}"

    def unique_email(self, local, domain):
        email, n = f"{local}@{domain}", 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.emails.add(email)
        return email

    def person(self, team, title=""):
        regional = REGIONAL_SURNAMES[team.name]
        surnames = [
            (pair, (len(SURNAMES) - i) + (40 if pair[0] in regional else 0))
            for i, pair in enumerate(SURNAMES)
        ]
        surname, surname_pinyin = pick(self.rng, surnames)
        female = self.rng.random() < 0.4
        given = self.rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        return Person(surname, surname_pinyin, given, female, title)

    def reach(self, person, city, domain, first):
        """Phones, e-mail and WeChat of a contact."""
        given = search.pinyin(person.given)
        full = person.surname_pinyin + "".join(given)
        short = person.surname_pinyin + "".join(part[0] for part in given)
        mobile = self.mobile() if first or self.rng.random() < 0.85 else None
        if mobile:
            person.phones.append(mobile)
        if domain and (not mobile or (first and self.rng.random() < 0.35)):
            person.phones.append(self.landline(city))
        if self.rng.random() < (0.65 if first else 0.5):
            if domain and self.rng.random() < 0.75:
                local = self.rng.choice([full, short, f"{''.join(given)}.{person.surname_pinyin}"])
                person.email = self.unique_email(local, domain)
            elif self.rng.random() < 0.5:
                person.email = self.unique_email(str(self.rng.randint(10**7, 3 * 10**9)), "qq.com")
            else:
                local = f"{short}{self.rng.choice(['', '88', '2008', str(self.rng.randint(70, 99))])}"
                person.email = self.unique_email(local, self.rng.choice(["163.com", "126.com"]))
        roll = self.rng.random()
        if roll < 0.3:
            alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
            person.wechat = "wxid_" + "".join(self.rng.choice(alphabet) for _ in range(14))
        elif roll < 0.45 and mobile:
            person.wechat = mobile.replace(" ", "")
        elif roll < 0.75:
            person.wechat = self.rng.choice(
                [f"{short}{self.rng.randint(1970, 1999)}", f"{''.join(given)}_{person.surname_pinyin}", full]
            )

    def contacts(self, team, sector, city, domain, grade, hospital):
        counts = [(1, 40), (2, 40), (3, 20)] if grade != "D" else [(1, 70), (2, 30)]
        count = pick(self.rng, counts)
        people, titles, names = [], set(), set()
        for i in range(count):
            choices = FIRST_TITLES if i == 0 else OTHER_TITLES
            if hospital:
                choices = HOSPITAL_TITLES + (OTHER_TITLES if i else [])
            choices = choices + [(title, 8) for title in sector.titles if not hospital]
            title = pick(self.rng, [(t, w) for t, w in choices if t not in titles])
            titles.add(title)
            person = self.person(team, title)
            while person.given in names or person.surname + person.given in names:
                person = self.person(team, title)
            names.update([person.given, person.name])
            self.reach(person, city, domain, first=i == 0)
            people.append(person)
        return people

    def amount(self, grade):
        low, high = AMOUNTS[grade]
        value = self.rng.uniform(low, high)
        step = 10_000 if value >= 500_000 else 1_000 if value >= 50_000 else 100
        value = round(value / step) * step
        if self.rng.random() < 0.3:  # prices like 128,000 and 39,800
            value = value // (step * 10) * step * 10 + 8 * step
        return Decimal(value).quantize(Decimal("0.01"))

    def tags(self, sector_name, grade, stage, source, name):
        tags = []
        if grade == "A" and self.rng.random() < 0.8:
            tags.append("重点客户")
        if "集团" in name:
            tags.append("集团客户")
        if sector_name in ("建筑工程", "医疗健康", "教育培训") and self.rng.random() < 0.3:
            tags += ["政府项目", "招投标"]
        if stage == Stage.WON:
            tags += self.rng.sample(["老客户", "年框", "可转介绍"], self.rng.randint(1, 2))
        if stage in (Stage.QUOTED, Stage.NEGOTIATING) and self.rng.random() < 0.25:
            tags.append("预算已批")
        if stage in (Stage.QUALIFIED, Stage.QUOTED) and self.rng.random() < 0.2:
            tags.append("试用中")
        if source == "referral" and self.rng.random() < 0.5:
            tags.append("转介绍")
        for tag, chance in (("价格敏感", 0.1), ("竞品在用", 0.08), ("决策链长", 0.08), ("需上门", 0.06)):
            if self.rng.random() < chance:
                tags.append(tag)
        return list(dict.fromkeys(tags))[:4]
