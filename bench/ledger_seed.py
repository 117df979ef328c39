"""Seed a benchmark ledger: 100,000 customers, 300,000 contacts, 500,000 follow-ups.

    .venv/bin/python -m bench.ledger_seed --database-url sqlite:///bench/data/ledger.db
    .venv/bin/python -m bench.ledger_seed --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_bench

The database is created (PostgreSQL) and migrated, then filled with rows exactly as
the app writes them — name_key, sort_name and search_tokens from
salesdesk.ledger.keys/search, contact search_text and phone keys, the first stage
change and owner history — but with bulk executemany statements instead of the
per-customer service. The FTS5 tables (SQLite) are kept by the migration's triggers;
PostgreSQL's search indexes are built after the load. Deterministic for a given --seed
and day.

Ownership follows the rules (salesdesk/rules): the company's rule settings are saved
(periods per grade), every rep holds fewer active customers than the limit, and an
owned customer's owned_since and last follow-up are chosen so that its reclaim_at —
computed with rules.protection.deadline() — is overdue for a few (as after the reclaim
job was off for some days), in the warning window for some and ahead for most. The
rest of the activity the workbench reads is seeded too: notifications per user,
collision reports, collaborations, blocked duplicates, points, and the demo knowledge
base with an onboarding path assigned to the newest reps.
"""

import argparse
import os
import random
import string
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from multiprocessing import Pool
from pathlib import Path
from types import SimpleNamespace

from salesdesk.demo import words as demo_words

from . import _common
from ._common import ADMIN_EMAIL, DATA, Stopwatch, backend, bench_app, normalise_url

BATCH = 5000

# ---- word lists ------------------------------------------------------------------------

BRAND_CHARS = (
    "腾飞华瑞恒通达信鑫盛宏远泰安康和美佳锐博创智联云天海金银星光明辉德正诚嘉隆昌祥福源丰裕富"
    "宇航鹏程卓越汇聚凯旋优品精工昊阳晨曦青松翠柏蓝图英才奥普科迪迈斯格力豪帝尚雅致君合众志"
    "同仁广益元亨利贞乾坤朗润泽川岳峰启航领先拓展赛维泛亚欧特威尔莱恩思锦绣荣耀宸睿捷顺万邦"
    "百川千禧新立方舟中环宏图伟业长青永兴旺发家园汉唐宋明清华夏神州龙凤麒麟骏马猎豹雄鹰天成"
)
BRAND_CHARS = "".join(dict.fromkeys(BRAND_CHARS))
DESCRIPTORS = [
    "智能",
    "数字",
    "精密",
    "环保",
    "绿色",
    "国际",
    "新能源",
    "光电",
    "微电子",
    "智慧",
    "云端",
    "联合",
]
# Industry words with weights: 科技 is by far the most common, as in real registries.
INDUSTRY_WORDS = {
    "科技": 20,
    "电子": 6,
    "信息技术": 5,
    "软件": 4,
    "网络科技": 5,
    "贸易": 8,
    "商贸": 5,
    "实业": 5,
    "机械": 4,
    "设备": 3,
    "新材料": 3,
    "化工": 3,
    "医药": 3,
    "生物科技": 3,
    "医疗器械": 2,
    "建筑工程": 3,
    "建材": 2,
    "物流": 3,
    "供应链管理": 2,
    "餐饮管理": 2,
    "酒店管理": 1,
    "文化传媒": 3,
    "广告": 2,
    "教育科技": 2,
    "咨询": 2,
    "投资": 2,
    "能源": 2,
    "环保科技": 2,
    "汽车配件": 2,
    "食品": 2,
    "农业发展": 1,
    "服装": 1,
    "家居": 1,
    "照明": 1,
    "电气": 2,
    "自动化": 2,
    "精密制造": 1,
    "通信": 2,
    "数据服务": 1,
    "人工智能": 1,
}
SUFFIXES = {"有限公司": 70, "有限责任公司": 10, "股份有限公司": 12, "集团有限公司": 5, "": 3}
# Places, surnames, industries and team names come from the demo's word lists.
# Province -> its cities (all known to the name keys); "" for a municipality, whose
# companies are named after it alone.
REGIONS = {
    province: [""] if province in demo_words.MUNICIPALITIES else cities
    for provinces in demo_words.TERRITORIES.values()
    for province, (_weight, cities) in provinces.items()
}
SURNAMES = "".join(surname for surname, _pinyin in demo_words.SURNAMES)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉鹏飞宇浩然婷雪琳晨阳欣怡涵轩思远嘉俊"
TITLES = [
    "总经理",
    "副总经理",
    "采购经理",
    "采购专员",
    "技术总监",
    "IT经理",
    "财务经理",
    "行政主管",
    "董事长",
    "项目经理",
    "",
]
TAGS = [
    "重点客户",
    "老客户",
    "政府项目",
    "招投标",
    "续约",
    "高意向",
    "竞品在用",
    "渠道",
    "海外业务",
    "上市公司",
    "VIP",
]
STAGES = {"lead": 30, "contacted": 20, "qualified": 15, "quoted": 10, "negotiating": 8, "won": 10, "lost": 7}
GRADES = {"A": 10, "B": 30, "C": 45, "D": 15}
SOURCES = {"website": 25, "exhibition": 15, "referral": 20, "cold_call": 20, "advertising": 10, "other": 10}
CHANNELS = {"phone": 40, "wechat": 30, "visit": 15, "email": 10, "meeting": 5}
TOPICS = [
    "报价单",
    "产品演示",
    "合同条款",
    "付款方式",
    "交付周期",
    "技术方案",
    "售后服务",
    "年度框架协议",
    "试用反馈",
    "招标文件",
]
REACTIONS = [
    "客户表示有兴趣，需要内部讨论",
    "对方要求降价百分之十",
    "希望下周安排上门拜访",
    "目前暂无采购需求",
    "已确认今年预算",
    "决策人出差，下周再联系",
    "竞品报价更低，需要突出服务优势",
    "技术负责人认可方案",
    "财务流程走完即可签约",
    "需要补充资质材料",
]
NEXT_STEPS = [
    "发送报价单",
    "安排技术交流",
    "准备合同草稿",
    "邀请参观工厂",
    "寄送样品",
    "约见决策人",
    "",
    "",
    "",
]
EMAIL_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "aliyun.com"]
TEAMS = [*demo_words.TEAMS, "西南大区"]  # the demo's three regions and one more

# ---- the rules ------------------------------------------------------------------------
# Periods differ by grade (A longer than D), as an admin would set them.
GRADE_PERIODS = {"A": {"follow_up_days": 30, "deal_days": 180}, "D": {"follow_up_days": 10, "deal_days": 60}}
# Share of open (not won/lost) customers a rep tries to hold, and of lost ones still owned;
# every rep stays under max_active_per_rep (own cap drawn between 55 % and 99 % of it).
OWNED_OPEN, OWNED_LOST = 0.40, 0.25
# Owned customers' reclaim dates: overdue (the reclaim job was off for a few days),
# within the warning window, ahead. Won customers never return.
OVERDUE_SHARE, WARNING_SHARE = 0.03, 0.08
# Pool customers that had an owner before (released or reclaimed).
POOL_WITH_PAST = 0.4


def weighted(rng, table):
    return rng.choices(list(table), weights=list(table.values()))[0]


# ---- names (computed in worker processes: pinyin is the slow part) ---------------------


def random_company(rng):
    brand = "".join(rng.sample(BRAND_CHARS, 2))
    industry = weighted(rng, INDUSTRY_WORDS)
    descriptor = rng.choice(DESCRIPTORS) if rng.random() < 0.3 else ""
    suffix = weighted(rng, SUFFIXES)
    province = rng.choice(list(REGIONS))
    city = rng.choice(REGIONS[province])
    style = rng.random()
    core = f"{brand}{descriptor}{industry}"
    if style < 0.35 and city:
        name = f"{city}市{core}{suffix or '有限公司'}"
    elif style < 0.45:
        division = "市" if province in demo_words.MUNICIPALITIES else "省"
        name = f"{province}{division}{core}{suffix or '有限公司'}"
    elif style < 0.6 and city:
        name = f"{core}（{city}）有限公司"
    elif style < 0.68:
        name = f"{province}{core}{suffix or '股份有限公司'}"
    else:
        name = f"{core}{suffix}"
    return name, province, city


def name_columns(name):
    from salesdesk.ledger import keys, search

    return (name, keys.company_key(name), *search.index_values(name))


def unique_names(count, rng, processes):
    """[(name, province, city, name_key, sort_name, search_tokens)] with unique keys."""
    chosen, taken = [], set()
    with Pool(processes) as pool:
        while len(chosen) < count:
            want = int((count - len(chosen)) * 1.05) + 100
            candidates = [random_company(rng) for _ in range(want)]
            computed = pool.map(name_columns, [c[0] for c in candidates], chunksize=500)
            for (name, province, city), (_name, key, sort_name, tokens) in zip(
                candidates, computed, strict=True
            ):
                if key and key not in taken and len(chosen) < count:
                    taken.add(key)
                    chosen.append((name, province, city, key, sort_name, tokens))
    return chosen


# ---- database set-up --------------------------------------------------------------------


def search_index_statements(connection):
    """The PostgreSQL search indexes (GIN: tsvector, trigram) as the migrations left
    them, read from the catalogue: their CREATE INDEX statements."""
    return list(
        connection.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE tablename IN ('customers', 'contacts') "
            "AND indexdef LIKE '%%USING gin%%' ORDER BY indexname"
        ).scalars()
    )


def prepare_database(url, reset):
    from sqlalchemy import create_engine, make_url

    if backend(url) == "sqlite":
        path = Path(make_url(url).database)
        if path.exists():
            if not reset:
                raise SystemExit(f"{path} exists: pass --reset to replace it.")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    target = make_url(url)
    name = target.database
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).scalar()
        if exists and not reset:
            raise SystemExit(f"database {name} exists: pass --reset to drop and recreate it.")
        if exists:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def create_people(rng, reps_per_team):
    """Four teams, each with a manager, reps and a support person; an admin.
    Returns (team ids, {team id: [rep ids]}, {team id: manager id})."""
    from salesdesk.auth import services as accounts
    from salesdesk.auth.models import Role

    password = "bench-password-42"
    accounts.create_user(email=ADMIN_EMAIL, display_name="管理员", role=Role.ADMIN, password=password)
    teams, reps, managers = [], {}, {}
    rep_number = 0
    for t, team_name in enumerate(TEAMS, start=1):
        team = accounts.get_or_create_team(team_name)
        teams.append(team.id)
        manager = accounts.create_user(
            email=f"manager{t}@bench.example",
            display_name=rng.choice(SURNAMES) + "经理",
            role=Role.MANAGER,
            password=password,
            team=team,
        )
        managers[team.id] = manager.id
        accounts.create_user(
            email=f"support{t}@bench.example",
            display_name=rng.choice(SURNAMES) + "支持",
            role=Role.SUPPORT,
            password=password,
            team=team,
        )
        reps[team.id] = []
        for _ in range(reps_per_team):
            rep_number += 1
            rep = accounts.create_user(
                email=f"rep{rep_number:02d}@bench.example",
                display_name=rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2)))),
                role=Role.REP,
                password=password,
                team=team,
            )
            reps[team.id].append(rep.id)
    return teams, reps, managers


# ---- row generation ---------------------------------------------------------------------


def spread(total, buckets, rng, low, high):
    """`buckets` counts between low and high adding up to `total`."""
    counts = [low] * buckets
    remaining = total - low * buckets
    while remaining > 0:
        i = rng.randrange(buckets)
        if counts[i] < high:
            counts[i] += 1
            remaining -= 1
    return counts


def random_datetime(rng, start, end):
    span = max(0.0, (end - start).total_seconds())
    return start + timedelta(seconds=rng.random() * span)


class Generator:
    def __init__(self, rng, now, today, teams, reps, managers, rules):
        self.rng, self.now, self.today = rng, now, today
        self.teams, self.reps, self.managers = teams, reps, managers
        self.rules = rules
        self.all_reps = [rep for team in teams for rep in reps[team]]
        self.team_of = {rep: team for team in teams for rep in reps[team]}
        limit = rules.max_active_per_rep
        self.capacity = {rep: rng.randint(int(limit * 0.55), limit - 2) for rep in self.all_reps}
        self.active = Counter()
        self.owned = []  # (customer id, owner id, team id, name) of owned customers not won
        self.phone_keys, self.email_keys, self.credit_codes = set(), set(), set()
        self.contact_id = self.phone_id = self.follow_up_id = 0
        from pypinyin import lazy_pinyin

        self.pinyin = {ch: lazy_pinyin(ch)[0] for ch in SURNAMES + GIVEN}

    def credit_code(self):
        from salesdesk.ledger.keys import CREDIT_CODE_CHARS, credit_code_check_char

        while True:
            first17 = "91" + "".join(self.rng.choice("0123456789") for _ in range(6))
            first17 += "".join(self.rng.choice(CREDIT_CODE_CHARS) for _ in range(9))
            code = first17 + credit_code_check_char(first17)
            if code not in self.credit_codes:
                self.credit_codes.add(code)
                return code

    def phone(self):
        from salesdesk.ledger.keys import phone_key

        rng = self.rng
        while True:
            if rng.random() < 0.12:
                area = rng.choice(["010", "021", "020", "0755", "0571", "025", "028", "027"])
                digits = f"{rng.randint(2, 8)}{rng.randrange(10**7):07d}"
                number = f"{area}-{digits}"
            else:
                body = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
                style = rng.random()
                if style < 0.7:
                    number = body
                elif style < 0.85:
                    number = f"{body[:3]} {body[3:7]} {body[7:]}"
                else:
                    number = f"+86 {body[:3]}-{body[3:7]}-{body[7:]}"
            key = phone_key(number)
            if key and key not in self.phone_keys:
                self.phone_keys.add(key)
                return number, key

    def customer(self, customer_id, named):
        name, province, city, name_key, sort_name, tokens = named
        rng, now = self.rng, self.now
        created_at = random_datetime(rng, now - timedelta(days=730), now - timedelta(hours=1))
        stage = weighted(rng, STAGES)
        owner_id = None
        if stage == "won":  # won customers stay with their owner for good
            owner_id = rng.choice(self.all_reps)
        elif rng.random() < (OWNED_LOST if stage == "lost" else OWNED_OPEN):
            rep = rng.choice(self.all_reps)
            if stage == "lost" or self.active[rep] < self.capacity[rep]:
                owner_id = rep
                self.active[rep] += stage != "lost"
        if owner_id is None:
            team_id = rng.choice(self.teams)
            creator = rng.choice(self.reps[team_id] + [self.managers[team_id]])
        else:
            team_id = self.team_of[owner_id]
            creator = owner_id if rng.random() < 0.8 else self.managers[team_id]
        amount = (
            Decimal(int(rng.lognormvariate(11.5, 1.2))).quantize(Decimal("1")) if rng.random() < 0.8 else 0
        )
        return {
            "id": customer_id,
            "kind": "company",
            "name": name,
            "name_key": name_key,
            "credit_code": self.credit_code() if rng.random() < 0.3 else None,
            "industry": rng.choice(demo_words.INDUSTRIES),
            "province": province,
            "city": city,
            "source": weighted(rng, SOURCES),
            "grade": weighted(rng, GRADES),
            "stage": stage,
            "expected_amount": Decimal(amount),
            "owner_id": owner_id,
            "team_id": team_id,
            "owned_since": created_at if owner_id else None,
            "reclaim_at": None,
            "reclaim_rule": None,
            "extension_days": 0,
            "reclaim_warned_for": None,
            "next_follow_up_on": None,
            "last_follow_up_at": None,
            # The stage history has one row, the stage at creation (histories below).
            "won_at": created_at if stage == "won" else None,
            "notes": rng.choice(["", "", "", "年底有扩容计划", "老板是校友", "需开增值税专票", "对价格敏感"]),
            "sort_name": sort_name,
            "search_tokens": tokens,
            "deleted_at": None,
            "deleted_by_id": None,
            "version": 1,
            "created_at": created_at,
            "created_by_id": creator,
            "updated_at": created_at,
            "updated_by_id": creator,
        }

    def contacts(self, customer, count):
        from salesdesk.ledger.keys import email_key
        from salesdesk.ledger.search import contact_name_tokens, contact_search_text

        rng = self.rng
        contacts, phones = [], []
        for _ in range(count):
            self.contact_id += 1
            surname, given = rng.choice(SURNAMES), "".join(rng.sample(GIVEN, rng.choice((1, 2, 2))))
            numbers = [self.phone() for _ in range(rng.choices((0, 1, 2), weights=(5, 75, 20))[0])]
            email = None
            if rng.random() < 0.7:
                local = self.pinyin[surname] + "." + "".join(self.pinyin[ch] for ch in given)
                email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
                if email in self.email_keys:
                    email = f"{local}{self.contact_id}@{rng.choice(EMAIL_DOMAINS)}"
                self.email_keys.add(email)
            wechat = ""
            if rng.random() < 0.4:
                wechat = "wxid_" + "".join(
                    rng.choice(string.ascii_lowercase + string.digits) for _ in range(10)
                )
            contacts.append(
                {
                    "id": self.contact_id,
                    "customer_id": customer["id"],
                    "name": surname + given,
                    "name_tokens": contact_name_tokens(surname + given),
                    "title": rng.choice(TITLES),
                    "email": email,
                    "email_key": email_key(email),
                    "wechat": wechat,
                    "search_text": contact_search_text([key for _n, key in numbers], email, wechat),
                    "created_at": customer["created_at"],
                }
            )
            for number, key in numbers:
                self.phone_id += 1
                phones.append(
                    {"id": self.phone_id, "contact_id": self.contact_id, "number": number, "key": key}
                )
        return contacts, phones

    def plan_protection(self, customer, followed_up):
        """An owned customer that is not won: choose owned_since and the moment of the
        last follow-up so that its reclaim date lands overdue, in the warning window or
        ahead (see OVERDUE_SHARE). Returns the last follow-up moment (None: none during
        this ownership). Sets created_at, owned_since, extension_days."""
        rng, now, rules = self.rng, self.now, self.rules
        if customer["owner_id"] is None or customer["stage"] == "won":
            return None
        follow_days, deal_days = rules.periods_for(customer["grade"])
        roll = rng.random()
        if roll < OVERDUE_SHARE:
            days_left = -rng.uniform(0, 5)
        elif roll < OVERDUE_SHARE + WARNING_SHARE:
            days_left = rng.uniform(0, rules.warning_days)
        else:
            days_left = rng.uniform(rules.warning_days, follow_days)
        if followed_up and rng.random() < 0.2:  # not won in time fires first
            since = now + timedelta(days=days_left - deal_days)
            last = now + timedelta(days=days_left - follow_days + rng.uniform(0, follow_days - days_left))
        else:  # no follow-up in time fires first
            last = now + timedelta(days=days_left - follow_days)
            since = last - timedelta(days=rng.uniform(0, deal_days - follow_days)) if followed_up else last
        if rng.random() < 0.03:  # an extension was granted: the same date, reached later
            extra = rng.randint(5, 30)
            customer["extension_days"] = extra
            since, last = since - timedelta(days=extra), last - timedelta(days=extra)
        since, last = since.replace(microsecond=0), last.replace(microsecond=0)
        customer["owned_since"] = since
        if customer["created_at"] > since:
            customer["created_at"] = customer["updated_at"] = since
            customer["created_by_id"] = customer["updated_by_id"] = customer["owner_id"]
        customer["updated_at"] = max(customer["updated_at"], since)
        self.owned.append((customer["id"], customer["owner_id"], customer["team_id"], customer["name"]))
        return last if followed_up else None

    def finish(self, customer):
        """reclaim_at and its rule exactly as the rules compute them, and the warning
        marker the reclaim job would have left."""
        from salesdesk.rules.protection import deadline

        rng, now = self.rng, self.now
        at, rule = deadline(SimpleNamespace(**customer), self.rules)
        customer["reclaim_at"], customer["reclaim_rule"] = at, rule
        # Warned already: nearly all overdue ones, half of those in the window.
        if self.rules.returns_soon(at, now) and rng.random() < (0.95 if at <= now else 0.5):
            customer["reclaim_warned_for"] = at

    def follow_ups(self, customer, count, end=None):
        """The customer's follow-ups, oldest first, the last at `end` when given; sets
        its last/next follow-up dates."""
        rng, now, today = self.rng, self.now, self.today
        start = max(customer["created_at"], now - timedelta(days=365))
        if end is not None:
            start = min(start, end)
            moments = sorted(random_datetime(rng, start, end) for _ in range(count - 1)) + [end]
        else:
            moments = sorted(random_datetime(rng, start, now) for _ in range(count))
        team = customer["team_id"]
        rows = []
        previous = {}  # author -> their latest follow-up of the customer so far (previous_at)
        for i, occurred_at in enumerate(moments):
            self.follow_up_id += 1
            author = customer["owner_id"] or rng.choice(self.reps[team])
            if rng.random() < 0.1:
                author = rng.choice(self.reps[team] + [self.managers[team]])
            last = i == len(moments) - 1
            next_on = None
            if not last and rng.random() < 0.6:
                next_on = occurred_at.date() + timedelta(days=rng.randint(1, 14))
            rows.append(
                {
                    "id": self.follow_up_id,
                    "customer_id": customer["id"],
                    "author_id": author,
                    "channel": weighted(rng, CHANNELS),
                    "content": f"{rng.choice(['电话沟通', '微信沟通', '上门拜访', '邮件跟进', '视频会议'])}"
                    f"{rng.choice(TOPICS)}，{rng.choice(REACTIONS)}。",
                    "occurred_at": occurred_at,
                    "next_step": rng.choice(NEXT_STEPS),
                    "next_follow_up_on": next_on,
                    "created_at": occurred_at,
                    "previous_at": previous.get(author),
                }
            )
            previous[author] = occurred_at
        if rows:
            last = rows[-1]
            customer["last_follow_up_at"] = last["occurred_at"]
            customer["updated_at"] = max(customer["updated_at"], last["occurred_at"])
            last_day = last["occurred_at"].date()
            roll = rng.random()
            if roll < 0.35 or customer["stage"] in ("won", "lost"):
                next_on = None
            elif roll < 0.55 and last_day < today:  # overdue
                next_on = last_day + timedelta(days=rng.randint(0, (today - last_day).days - 1))
            elif roll < 0.6:  # due today
                next_on = today
            else:
                next_on = today + timedelta(days=rng.randint(1, 45))
            if next_on is not None and next_on < last_day:
                next_on = today
            last["next_follow_up_on"] = next_on
            customer["next_follow_up_on"] = next_on
        elif rng.random() < 0.3:
            created = customer["created_at"].date()
            customer["next_follow_up_on"] = max(created, today + timedelta(days=rng.randint(-20, 30)))
        if rng.random() < 0.2:  # an edit since
            customer["updated_at"] = random_datetime(rng, customer["updated_at"], now)
        return rows

    def tags(self, customer):
        if self.rng.random() >= 0.35:
            return []
        chosen = self.rng.sample(TAGS, self.rng.choice((1, 1, 2, 3)))
        return [{"customer_id": customer["id"], "tag": tag} for tag in chosen]

    def histories(self, customer):
        stage = {
            "customer_id": customer["id"],
            "from_stage": None,
            "to_stage": customer["stage"],
            "actor_id": customer["created_by_id"],
            "owner_id": customer["owner_id"],
            "at": customer["created_at"],
        }
        rng, owner_id, created_at = self.rng, customer["owner_id"], customer["created_at"]

        def change(from_id, to_id, reason, actor_id, at):
            return {
                "customer_id": customer["id"],
                "from_user_id": from_id,
                "to_user_id": to_id,
                "reason": reason,
                "actor_id": actor_id,
                "at": at,
                "note": "",
            }

        since = customer["owned_since"]
        if owner_id and since == created_at:
            return stage, [change(None, owner_id, "create", customer["created_by_id"], created_at)]
        if owner_id:  # created into the pool, claimed or assigned later
            team = customer["team_id"]
            if rng.random() < 0.7:
                taken = change(None, owner_id, "claim", owner_id, since)
            else:
                taken = change(None, owner_id, "assign", self.managers[team], since)
            return stage, [change(None, None, "create", customer["created_by_id"], created_at), taken]
        if rng.random() < POOL_WITH_PAST:  # owned once, then released or reclaimed
            team = customer["team_id"]
            past = rng.choice(self.reps[team])
            left = random_datetime(rng, created_at, self.now)
            reason = rng.choices(["reclaim_no_follow_up", "reclaim_no_deal", "release"], (6, 2, 2))[0]
            return stage, [
                change(None, past, "create", customer["created_by_id"], created_at),
                change(past, None, reason, past if reason == "release" else None, left),
            ]
        return stage, []


# ---- inserting ---------------------------------------------------------------------------


class Writer:
    """Buffers rows per table and writes them with executemany in batches."""

    def __init__(self, connection):
        self.connection = connection
        self.buffers = {}
        self.counts = {}

    def add(self, table, rows):
        buffer = self.buffers.setdefault(table, [])
        buffer.extend(rows)
        if len(buffer) >= BATCH:
            self.flush(table)

    def flush(self, table=None):
        for name in [table] if table is not None else list(self.buffers):
            rows = self.buffers.get(name)
            if rows:
                self.connection.execute(name.insert(), rows)
                self.counts[name.name] = self.counts.get(name.name, 0) + len(rows)
                rows.clear()


def describe_ownership(generator, rules, now):
    """One line: how many are owned, and where their reclaim dates fall."""
    held = sorted(generator.active.values())
    return (
        f"owned, not won: {len(generator.owned):,}; active per rep {held[0]}–{held[-1]} "
        f"(limit {rules.max_active_per_rep})"
    )


def seed_activity(app, rng, now, today, generator, args):
    """Notifications, collision reports, collaborations, blocked duplicates, points and
    the knowledge base (bench/seed_activity.py)."""
    from salesdesk.audit import AuditEvent
    from salesdesk.database import write_transaction
    from salesdesk.extensions import db
    from salesdesk.ledger.models import Collaborator, CollaboratorEvent
    from salesdesk.notifications import Notification
    from salesdesk.recognition import summaries
    from salesdesk.recognition.models import PointEntry
    from salesdesk.rules.models import CollisionReport

    from . import seed_activity as activity

    teams, reps, managers = generator.teams, generator.reps, generator.managers
    owned = generator.owned
    with app.app_context():
        users = activity.users_of(db.session)
        rows = {
            Notification.__table__: activity.notifications(
                rng, now, today, users, owned, args.notifications_per_rep
            ),
            CollisionReport.__table__: activity.collisions(
                rng, now, owned, reps, generator.team_of, managers, args.collisions
            ),
            AuditEvent.__table__: activity.blocked_duplicates(rng, now, reps, args.customers, 2),
            PointEntry.__table__: activity.points(
                rng, now, [user.id for user in users if user.active], list(managers.values()), args.points
            ),
        }
        collaborators, events = activity.collaborations(
            rng, now, owned, reps, args.collaborations, args.collaborations // 12
        )
        rows[Collaborator.__table__], rows[CollaboratorEvent.__table__] = collaborators, events
        with db.engine.begin() as connection:
            writer = Writer(connection)
            for table, table_rows in rows.items():
                writer.add(table, table_rows)
            writer.flush()
        print("    rows: " + ", ".join(f"{table} {count:,}" for table, count in writer.counts.items()))
        with write_transaction() as session:
            summaries.rebuild(session)
        by_id = {user.id: user for user in users}
        admin = next(user for user in users if user.role == "admin")
        newest = [[by_id[rep] for rep in reps[team][-3:]] for team in teams]
        articles, assigned = activity.knowledge_base(
            rng, now, admin, [by_id[managers[team]] for team in teams], newest
        )
        print(f"    knowledge base: {articles} articles, onboarding path assigned to {assigned} reps")
        db.session.remove()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_common.DEFAULT_SQLITE)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--contacts-per-customer", type=float, default=3.0)
    parser.add_argument("--follow-ups-per-customer", type=float, default=5.0)
    parser.add_argument("--reps-per-team", type=int, default=50)
    parser.add_argument("--notifications-per-rep", type=int, default=300, help="over the last 60 days")
    parser.add_argument("--collisions", type=int, default=400, help="collision reports (last 6 months)")
    parser.add_argument("--collaborations", type=int, default=2000)
    parser.add_argument("--points", type=int, default=30_000, help="point entries (last year)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--reset", action="store_true", help="replace an existing benchmark database")
    args = parser.parse_args(argv)
    url = normalise_url(args.database_url)
    n = args.customers
    rng = random.Random(args.seed)
    watch = Stopwatch()
    print(f"Seeding {url} with {n:,} customers ({_common.machine()})", flush=True)

    prepare_database(url, args.reset)
    app = bench_app(url, like_a_worker=False)
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from salesdesk import clock
    from salesdesk.extensions import db
    from salesdesk.jobs import optimize_sqlite
    from salesdesk.ledger.models import (
        Contact,
        ContactPhone,
        Customer,
        CustomerTag,
        FollowUp,
        OwnershipChange,
        StageChange,
    )
    from salesdesk.performance.follow_up_counts import recount
    from salesdesk.settings import DEFAULTS, RuleSettings

    with app.app_context():
        upgrade()
        watch.lap("migrate")
        teams, reps, managers = create_people(rng, args.reps_per_team)
        # The rule settings an admin saved: the defaults, periods differing by grade.
        db.session.execute(
            RuleSettings.__table__.insert(),
            [{"id": 1, **DEFAULTS, "grade_periods": GRADE_PERIODS, "updated_at": datetime.now(UTC)}],
        )
        db.session.commit()
        watch.lap("teams, users, rule settings")
    rules = RuleSettings(id=1, grade_periods=GRADE_PERIODS, **DEFAULTS)

    names = unique_names(n, rng, args.processes)
    watch.lap(f"names, keys, pinyin tokens ({args.processes} proc)")

    now = datetime.now(UTC).replace(microsecond=0)
    today = clock.today("Asia/Shanghai")
    generator = Generator(rng, now, today, teams, reps, managers, rules)
    contact_counts = spread(int(n * args.contacts_per_customer), n, rng, 1, 8)
    # About one customer in ten has no follow-up yet; the rest share the total.
    active = [i for i in range(n) if rng.random() >= 0.1]
    follow_up_counts = [0] * n
    for i, count in zip(
        active, spread(int(n * args.follow_ups_per_customer), len(active), rng, 1, 40), strict=True
    ):
        follow_up_counts[i] = count

    with app.app_context():
        engine = db.engine
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA cache_size=-200000")
            # PostgreSQL: the search indexes are built once after the load (the
            # migrations' own definitions), rather than maintained row by row.
            postgres = engine.dialect.name == "postgresql"
            postgres_search = search_index_statements(connection) if postgres else []
            for statement in postgres_search:
                connection.exec_driver_sql(f"DROP INDEX {statement.split()[2]}")
            writer = Writer(connection)
            tables = {
                "customers": Customer.__table__,
                "tags": CustomerTag.__table__,
                "contacts": Contact.__table__,
                "phones": ContactPhone.__table__,
                "follow_ups": FollowUp.__table__,
                "stages": StageChange.__table__,
                "owners": OwnershipChange.__table__,
            }
            pending = {key: [] for key in tables}
            for i, named in enumerate(names):
                customer = generator.customer(i + 1, named)
                contacts, phones = generator.contacts(customer, contact_counts[i])
                last = generator.plan_protection(customer, follow_up_counts[i] > 0)
                follow_ups = generator.follow_ups(customer, follow_up_counts[i], last)
                generator.finish(customer)
                stage, owners = generator.histories(customer)
                pending["customers"].append(customer)
                pending["tags"] += generator.tags(customer)
                pending["contacts"] += contacts
                pending["phones"] += phones
                pending["follow_ups"] += follow_ups
                pending["stages"].append(stage)
                pending["owners"] += owners
                if len(pending["customers"]) >= BATCH or i == n - 1:
                    # Parents before children (foreign keys are on).
                    for key in ("customers", "tags", "contacts", "phones", "follow_ups", "stages", "owners"):
                        writer.add(tables[key], pending[key])
                        writer.flush(tables[key])
                        pending[key] = []
                if (i + 1) % 20_000 == 0:
                    print(f"    {i + 1:,} customers written", flush=True)
            writer.flush()
        watch.lap("generate and insert rows")
        print("    rows: " + ", ".join(f"{table} {count:,}" for table, count in writer.counts.items()))
        # The write path keeps the board's counts ahead; rows written here bypass it.
        recount(db.session.scalars(select(FollowUp.author_id).distinct()).all())
        db.session.commit()
        watch.lap("follow-ups counted per person and month")
        if postgres_search:
            with engine.begin() as connection:
                connection.exec_driver_sql("SET maintenance_work_mem = '256MB'")
                for statement in postgres_search:
                    connection.exec_driver_sql(statement)
            watch.lap("build search indexes (GIN tsvector, trigram)")
        print("    " + describe_ownership(generator, rules, now))
        seed_activity(app, rng, now, today, generator, args)
        watch.lap("activity: notifications, collisions, points, KB")

        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                for table in (
                    "customers",
                    "contacts",
                    "contact_phones",
                    "follow_ups",
                    "stage_changes",
                    "ownership_changes",
                ):
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                connection.commit()
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
                watch.lap("sequences, VACUUM ANALYZE")
            else:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                for table in ("customer_search", "contact_search"):
                    connection.exec_driver_sql(f"INSERT INTO {table}({table}) VALUES('optimize')")
                connection.commit()
                watch.lap("checkpoint, FTS optimize")
                # The statistics the running app gathers at its first request (its
                # sqlite-optimize job), as VACUUM ANALYZE stands for autovacuum above.
                optimize_sqlite()
                watch.lap("sqlite-optimize job (sampled ANALYZE)")
            counts = {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("customers", "contacts", "contact_phones", "follow_ups", "customer_tags")
            }
        db.engine.dispose()
    print("  counts: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()))
    if backend(url) == "sqlite":
        from sqlalchemy import make_url

        size = Path(make_url(url).database).stat().st_size / 2**20
        print(f"  database file: {size:,.0f} MB")
    print(f"  total {watch.total():.1f} s", flush=True)


if __name__ == "__main__":
    DATA.mkdir(parents=True, exist_ok=True)
    main()
