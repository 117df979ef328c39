"""Custom fields storage (issue 20): typed value tables (A) against a JSON column (B).

    .venv/bin/python -m bench.custom_fields_storage --database-url sqlite:////work/benchdata/cf.db
    .venv/bin/python -m bench.custom_fields_storage --database-url postgresql://postgres@127.0.0.1:5432/salesdesk_cf
    # options: --customers 100000 --runs 40 --warmup 3 --seed 1 --only filter,multi
    #          --strategies a-in,b-expr --explain (plans of the filtered page and count)
    #          --verbose (every statement) --reuse (keep the tables of an earlier run)

Builds, in one database and from the same generated data, a synthetic ledger
(`cf_customers`: the columns and partial list indexes of `customers` that the list
reads) with ten custom fields filled on ~60 % of the customers, stored twice:

- A, typed value tables: `cf_values(field_id, customer_id, text_value, long_text_value,
  number_value, date_value, bool_value, user_value, choice_id)`, one row per value (one
  per chosen option of a multiple choice), indexed by (field_id, <value column>,
  customer_id) for each value column but the long text (partial: value IS NOT NULL) and
  by (customer_id, field_id); on PostgreSQL also a trigram GIN on text_value and
  extended statistics on (field_id, choice_id). All static: a migration makes them once.
- B, a JSON column `cf_customers.custom` (JSONB on PostgreSQL), keys f1 … f10, with one
  expression index per filterable field, made when the field is added (SQLite
  `json_extract(custom, '$.f8')`, partial on deleted_at IS NULL as the list's indexes;
  PostgreSQL `((custom->>'f8')::int)`, not partial, see b_indexes), on PostgreSQL a
  trigram GIN on the free-text field and a GIN (jsonb_path_ops) on the whole document.

The SQLite file is made afresh (the PostgreSQL database is created if missing and the
cf_* tables replaced) unless --reuse. Bulk load (executemany / COPY), indexes after the
load, then statistics: PostgreSQL `VACUUM ANALYZE` (what autovacuum would do), SQLite
the app's `sqlite-optimize` job (`PRAGMA analysis_limit = 1000; ANALYZE`).

Then, per scenario, every strategy (way of writing the SQL, see STRATEGIES) runs
--warmup times untimed and --runs times timed, interleaved run by run so that load from
elsewhere falls on all of them alike; wall time of execute + fetch all rows, through the
plain driver (sqlite3 / psycopg with its default auto-prepare) with the app's connection
settings (salesdesk/database.py). Every strategy's answer is checked against the first
one's (same ids in the same order, same count). Reads are on team 1, writes on team 4.
SQLite's CPU column is this process's CPU (the queries included); PostgreSQL's
"server" column the backend's CPU per run (from /proc, clock ticks: a mean; parallel
workers not counted). Results (p50/p95/max per scenario and strategy, match counts,
plans of every statement, index build times and sizes) go to
bench/results/custom-fields-storage-<backend>.json (git-ignored, as all of bench/results).
"""

import argparse
import json
import random
import re
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from . import _common
from ._common import backend, summary

TARGET_MS = 50
COUNT_LIMIT = 10_000  # salesdesk.ledger.queries.COUNT_LIMIT
FEW_MATCHES = 2_000  # salesdesk.ledger.queries.FEW_MATCHES
PAGE = 50
BATCH = 5_000
TEAMS = 4
READ_TEAM = 1
WRITE_TEAM = 4
FILL = 0.6  # each field is filled on this share of customers
DELETED = 0.02  # in the trash
TODAY = date(2026, 12, 6)  # fixed, so a seed gives the same data on any day

# id, key, type, label. Choice ids: f8's options 1–8, f9's 9–14 (cf_choices).
FIELDS = [
    (1, "f1", "text", "细分行业"),  # ~50 distinct values (a category typed as text)
    (2, "f2", "text", "备注关键词"),  # free text: "contains" filter
    (3, "f3", "long_text", "客户背景"),
    (4, "f4", "number", "员工人数"),  # the number range filter
    (5, "f5", "number", "信用评分"),
    (6, "f6", "money", "年度预算"),
    (7, "f7", "date", "合同到期日"),  # the sort
    (8, "f8", "single_choice", "获客渠道"),  # the choice filter, 8 options, skewed
    (9, "f9", "multiple_choice", "关注产品"),  # 6 options, 1–3 chosen
    (10, "f10", "yes_no", "已签保密协议"),
]
TEXT_FIELD, FREE_TEXT_FIELD, NUMBER_FIELD, DATE_FIELD, CHOICE_FIELD, MULTI_FIELD = 1, 2, 4, 7, 8, 9
CHOICE_WEIGHTS = [30, 20, 15, 10, 8, 7, 6, 4]
CHOICES = {8: list(range(1, 9)), 9: list(range(9, 15))}
CHOICE_LABELS = {
    8: ["展会", "官网", "老客户介绍", "电话营销", "渠道伙伴", "社交媒体", "招投标", "其他"],
    9: ["云服务", "数据分析", "安全", "咨询", "培训", "硬件"],
}
# Which value column of cf_values holds each type; which fields B indexes (f2, f3 and
# f9 have no B-tree: "contains" scans; PostgreSQL's GIN serves f9).
COLUMN_OF = {
    "text": "text_value",
    "long_text": "long_text_value",  # not indexed: neither B-tree nor trigram
    "number": "number_value",
    "money": "number_value",
    "date": "date_value",
    "single_choice": "choice_id",
    "multiple_choice": "choice_id",
    "yes_no": "bool_value",
    "user": "user_value",
}
B_INDEXED = [1, 4, 5, 6, 7, 8, 10]

HAN = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民"
    "得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义"
    "事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题"
    "党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被"
    "干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单"
)
INDUSTRY_WORDS = (
    "汽车零部件 精密机械 工业软件 医疗器械 生物制药 新材料 光伏组件 储能系统 锂电池 半导体设备 集成电路 "
    "智能制造 工业机器人 物流仓储 冷链运输 跨境电商 直播电商 连锁零售 餐饮连锁 酒店管理 教育培训 职业教育 "
    "建筑设计 装配式建筑 环保工程 水处理 固废处理 农业科技 食品加工 饮料制造 纺织服装 家居建材 家用电器 "
    "消费电子 通信设备 数据中心 云计算 网络安全 人工智能 金融科技 保险经纪 律师事务所 会计服务 人力资源 "
    "广告传媒 游戏开发 影视制作 体育用品"
).split()
STAGES = (["lead"] * 30) + (["contacted"] * 20) + (["qualified"] * 15) + (["quoted"] * 8)
STAGES += (["negotiating"] * 5) + (["won"] * 10) + (["lost"] * 12)
GRADES = ["A"] * 10 + ["B"] * 30 + ["C"] * 45 + ["D"] * 15
PROVINCES = ["浙江", "江苏", "上海", "广东", "福建", "北京", "山东", "四川", "湖北", "河南"]


# ---- connections -----------------------------------------------------------------------


class Database:
    """The plain driver with the app's connection settings; SQL is written with :name
    parameters (sqlite3's named style), turned into %(name)s for psycopg."""

    def __init__(self, url):
        from sqlalchemy import make_url

        self.url = _common.normalise_url(url)
        self.backend = backend(self.url)
        parsed = make_url(self.url)
        self.is_pg = self.backend == "postgresql"
        if self.is_pg:
            self.name = parsed.database
            self.conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        else:
            self.path = Path(parsed.database)
        self._converted = {}
        self.conn = None

    def create_if_missing(self, fresh):
        if self.is_pg:
            import psycopg

            admin = self.conninfo.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(admin, autocommit=True) as connection:
                if not connection.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (self.name,)
                ).fetchone():
                    connection.execute(f'CREATE DATABASE "{self.name}"')
        elif fresh:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            for end in ("", "-wal", "-shm"):
                Path(f"{self.path}{end}").unlink(missing_ok=True)

    def connect(self):
        if self.is_pg:
            import psycopg

            self.conn = psycopg.connect(self.conninfo, autocommit=True)
        else:
            import sqlite3

            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            for pragma in (
                "journal_mode=WAL",
                "foreign_keys=ON",
                "busy_timeout=10000",
                "synchronous=NORMAL",
                "temp_store=MEMORY",
                f"mmap_size={1 << 30}",  # config.SQLITE_MMAP_BYTES
            ):
                self.conn.execute(f"PRAGMA {pragma}")
        return self

    def server_cpu(self):
        """CPU seconds of this connection's server process so far (PostgreSQL; 0 on SQLite,
        where the queries run in this process)."""
        if not self.is_pg:
            return 0.0
        return _common.process_cpu_seconds(self.conn.info.backend_pid)

    def sql(self, statement):
        if not self.is_pg:
            return statement
        converted = self._converted.get(statement)
        if converted is None:
            converted = re.sub(r"(?<![:\w]):([a-z_][a-z0-9_]*)", r"%(\1)s", statement.replace("%", "%%"))
            self._converted[statement] = converted
        return converted

    def all(self, statement, params=None):
        return self.conn.execute(self.sql(statement), params or {}).fetchall()

    def one(self, statement, params=None):
        return self.conn.execute(self.sql(statement), params or {}).fetchone()

    def run(self, statement, params=None):
        self.conn.execute(self.sql(statement), params or {})

    def many(self, statement, rows):
        self.conn.cursor().executemany(self.sql(statement), rows)

    def begin(self):
        if not self.is_pg:
            self.conn.execute("BEGIN IMMEDIATE")  # the app's write transactions
        else:
            self.conn.execute("BEGIN")

    def commit(self):
        self.conn.execute("COMMIT")


# ---- schema and data -------------------------------------------------------------------


def create_tables(db):
    pg = db.is_pg
    ident = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" if pg else "INTEGER PRIMARY KEY"
    stamp = "TIMESTAMPTZ" if pg else "DATETIME"
    for table in ("cf_text_fts", "cf_values", "cf_choices", "cf_customers", "cf_fields", "cf_meta"):
        db.run(f"DROP TABLE IF EXISTS {table}")
    db.run(
        """CREATE TABLE cf_fields (id INTEGER PRIMARY KEY, entity VARCHAR(10) NOT NULL,
        key VARCHAR(40) NOT NULL, label VARCHAR(100) NOT NULL, type VARCHAR(20) NOT NULL,
        position INTEGER NOT NULL, active BOOLEAN NOT NULL, UNIQUE (entity, key))"""
    )
    db.run(
        """CREATE TABLE cf_choices (id INTEGER PRIMARY KEY,
        field_id INTEGER NOT NULL REFERENCES cf_fields (id), label VARCHAR(100) NOT NULL,
        position INTEGER NOT NULL, active BOOLEAN NOT NULL)"""
    )
    db.run(
        f"""CREATE TABLE cf_customers (
        id {ident}, team_id INTEGER, owner_id INTEGER, stage VARCHAR(16) NOT NULL, grade VARCHAR(1) NOT NULL,
        name VARCHAR(200) NOT NULL, sort_name VARCHAR(400) NOT NULL, province VARCHAR(20) NOT NULL,
        city VARCHAR(30) NOT NULL, expected_amount BIGINT NOT NULL, search_tokens TEXT NOT NULL,
        created_at {stamp} NOT NULL, updated_at {stamp} NOT NULL, deleted_at {stamp},
        version INTEGER NOT NULL, custom {"JSONB" if pg else "JSON"})"""
    )
    db.run(
        f"""CREATE TABLE cf_values (id {ident},
        field_id INTEGER NOT NULL REFERENCES cf_fields (id),
        customer_id INTEGER NOT NULL REFERENCES cf_customers (id),
        text_value TEXT, long_text_value TEXT, number_value NUMERIC(18, 2), date_value DATE,
        bool_value BOOLEAN, user_value INTEGER, choice_id INTEGER REFERENCES cf_choices (id))"""
    )
    db.run("CREATE TABLE cf_meta (key VARCHAR(40) PRIMARY KEY, value TEXT NOT NULL)")
    true = True if pg else 1
    db.many(
        "INSERT INTO cf_fields VALUES (:id, 'customer', :key, :label, :type, :id, :active)",
        [{"id": i, "key": k, "label": label, "type": t, "active": true} for i, k, t, label in FIELDS],
    )
    db.many(
        "INSERT INTO cf_choices VALUES (:id, :field, :label, :position, :active)",
        [
            {"id": choice, "field": field, "label": CHOICE_LABELS[field][n], "position": n, "active": true}
            for field, ids in CHOICES.items()
            for n, choice in enumerate(ids)
        ],
    )


# The customer list's own indexes (salesdesk/ledger/models.py: _listed), those the
# scenarios can use.
CUSTOMER_INDEXES = [
    "CREATE INDEX ix_cf_customers_updated ON cf_customers (updated_at, id) WHERE deleted_at IS NULL",
    "CREATE INDEX ix_cf_customers_created ON cf_customers (created_at, id) WHERE deleted_at IS NULL",
    "CREATE INDEX ix_cf_customers_team_stage ON cf_customers (team_id, stage, owner_id, expected_amount)"
    " WHERE deleted_at IS NULL",
    "CREATE INDEX ix_cf_customers_owner_stage ON cf_customers (owner_id, stage) WHERE deleted_at IS NULL",
    "CREATE INDEX ix_cf_customers_grade ON cf_customers (grade, id) WHERE deleted_at IS NULL",
]


def a_indexes(db):
    """Static: created once by a migration, whatever fields an admin adds."""
    out = [
        f"CREATE INDEX ix_cf_values_{column.split('_')[0]} ON cf_values (field_id, {column}, customer_id)"
        f" WHERE {column} IS NOT NULL"
        for column in ("text_value", "number_value", "date_value", "bool_value", "user_value", "choice_id")
    ]
    out.append("CREATE INDEX ix_cf_values_customer ON cf_values (customer_id, field_id)")
    if db.is_pg:
        # "contains" on a text field: pg_trgm (the app's migrations load it) with the field
        # id in the same GIN index (btree_gin). A trigram index on text_value alone lost
        # to a scan of the field's B-tree entries (21 ms; this one 3 ms).
        out.append(
            "CREATE INDEX ix_cf_values_text_trgm ON cf_values USING gin (field_id, text_value gin_trgm_ops)"
            " WHERE text_value IS NOT NULL"
        )
        # A choice id belongs to one field: without this the planner multiplies the two
        # selectivities and expects 10 times too few rows.
        out.append(
            "CREATE STATISTICS ix_cf_values_field_choice (dependencies, mcv)"
            " ON field_id, choice_id FROM cf_values"
        )
    return out


def b_expression(db, field_id, alias="c."):
    """The expression B filters and sorts field `field_id` by (and indexes)."""
    key = f"f{field_id}"
    kind = next(t for i, _k, t, _label in FIELDS if i == field_id)
    if not db.is_pg:
        return f"json_extract({alias}custom, '$.{key}')"
    if kind in ("number", "money"):
        return f"(({alias}custom->>'{key}')::numeric)"
    if kind in ("single_choice", "user"):
        return f"(({alias}custom->>'{key}')::int)"
    if kind == "yes_no":
        return f"(({alias}custom->>'{key}')::boolean)"
    # Text and ISO dates compare as text (a text → date cast is not immutable: no index).
    return f"({alias}custom->>'{key}')"


def b_indexes(db):
    """Per field, created when an admin adds a filterable field (DDL at run time).
    SQLite: partial like the list's indexes. PostgreSQL: not partial, because the
    planner takes an expression's statistics from non-partial indexes only (partial
    ones left it at the default 0.5 % for the choice, 24 times too few rows, and no
    BitmapAnd of the two filters)."""
    out = []
    for field_id in B_INDEXED:
        expression = b_expression(db, field_id, alias="")
        order = " DESC NULLS LAST" if db.is_pg and field_id == DATE_FIELD else ""
        out.append(
            f"CREATE INDEX ix_cf_custom_f{field_id} ON cf_customers"
            f" ({expression}{order}, id{' DESC' if order else ''})"
            + ("" if db.is_pg else " WHERE deleted_at IS NULL")
        )
    if db.is_pg:
        out.append(
            f"CREATE INDEX ix_cf_custom_f{FREE_TEXT_FIELD}_trgm ON cf_customers"
            f" USING gin ((custom->>'f{FREE_TEXT_FIELD}') gin_trgm_ops)"
        )
        out.append(
            "CREATE INDEX ix_cf_custom_gin ON cf_customers USING gin (custom jsonb_path_ops)"
            " WHERE deleted_at IS NULL"
        )
    return out


def vocabulary(rng):
    consonants, vowels = "bcdfghjklmnprstvwxz", "aeiou"
    latin = set()
    while len(latin) < 2_000:
        latin.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 3))))
    latin = sorted(latin)
    rng.shuffle(latin)
    han = sorted({rng.choice(HAN) + rng.choice(HAN) for _ in range(600)})
    words = latin + han
    rng.shuffle(words)
    weights = [1 / (rank + 1) for rank in range(len(words))]  # Zipf
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return words, cumulative, set(latin)


def generate(customers, seed, pg, stats):
    """Batches of (customer rows, value rows). Same data for both layouts: the JSON
    document and the value rows come from the same draw. Dates and decimals as each
    driver wants them (SQLite: ISO text, floats)."""
    rng = random.Random(seed)
    words, cumulative, _latin = vocabulary(rng)
    stats["words"] = words
    industries = INDUSTRY_WORDS
    industry_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(industries))]
    now = datetime(2026, 12, 6, 12, 0, 0)
    for start in range(1, customers + 1, BATCH):
        customer_rows, value_rows = [], []
        for cid in range(start, min(customers, start + BATCH - 1) + 1):
            team = rng.randint(1, TEAMS)
            owner = None if rng.random() < 0.4 else team * 100 + rng.randint(1, 50)
            created = now - timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
            updated = created + (now - created) * rng.random()
            deleted = updated if rng.random() < DELETED else None
            name = "".join(rng.choice(HAN) for _ in range(2)) + rng.choice(industries)[:2] + "有限公司"
            custom, values = {}, []
            for field_id, key, kind, _label in FIELDS:
                if rng.random() >= FILL:
                    continue
                column = COLUMN_OF[kind]
                if kind == "text" and field_id == TEXT_FIELD:
                    value = rng.choices(industries, weights=industry_weights)[0]
                    custom[key], values = value, values + [(field_id, column, value)]
                elif kind == "text":
                    value = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(3, 8)))
                    custom[key], values = value, values + [(field_id, column, value)]
                    stats["free_text"].update(set(value.split()))
                    stats["free_text_rows"] += 1
                elif kind == "long_text":
                    value = "".join(rng.choices(HAN, k=rng.randint(80, 400)))
                    custom[key], values = value, values + [(field_id, column, value)]
                elif field_id == NUMBER_FIELD:
                    value = min(100_000, int(rng.lognormvariate(4, 1.2)) + 1)
                    custom[key], values = value, values + [(field_id, column, value)]
                    stats["numbers"].append(value)
                elif kind == "number":
                    value = Decimal(rng.randint(0, 10_000)) / 100
                    custom[key] = float(value)
                    values.append((field_id, column, value if pg else float(value)))
                elif kind == "money":
                    # Exact decimals: a string in JSON (a JSON number is a double).
                    value = Decimal(int(rng.lognormvariate(13, 1.5))) / 100
                    custom[key] = str(value)
                    values.append((field_id, column, value if pg else float(value)))
                elif kind == "date":
                    value = TODAY + timedelta(days=rng.randint(-365, 3 * 365))
                    custom[key] = value.isoformat()
                    values.append((field_id, column, value if pg else value.isoformat()))
                elif kind == "single_choice":
                    value = rng.choices(CHOICES[field_id], weights=CHOICE_WEIGHTS)[0]
                    custom[key], values = value, values + [(field_id, column, value)]
                    stats["choice"][value] += 1
                elif kind == "multiple_choice":
                    chosen = sorted(rng.sample(CHOICES[field_id], rng.randint(1, 3)))
                    custom[key] = chosen
                    values += [(field_id, column, choice) for choice in chosen]
                    stats["multi"].update(chosen)
                elif kind == "yes_no":
                    value = rng.random() < 0.35
                    custom[key] = value
                    values.append((field_id, column, value if pg else int(value)))
            document = json.dumps(custom, ensure_ascii=False, separators=(",", ":")) if custom else None
            stamps = (
                (created, updated, deleted)
                if pg
                else tuple(d and d.isoformat(" ") for d in (created, updated, deleted))
            )
            tokens = " ".join(rng.choices(words, k=15))
            amount = rng.randint(0, 5_000_000) * 100
            customer_rows.append(
                (cid, team, owner, rng.choice(STAGES), rng.choice(GRADES), name, tokens[:60],
                 rng.choice(PROVINCES), "市", amount, tokens, *stamps, 1, document)
            )  # fmt: skip
            for field_id, column, value in values:
                row = [cid, field_id] + [None] * len(VALUE_COLUMNS)
                row[2 + VALUE_COLUMNS.index(column)] = value
                value_rows.append(tuple(row))
        yield customer_rows, value_rows


VALUE_COLUMNS = [
    "text_value",
    "long_text_value",
    "number_value",
    "date_value",
    "bool_value",
    "user_value",
    "choice_id",
]
CUSTOMER_COLUMNS = (
    "id, team_id, owner_id, stage, grade, name, sort_name, province, city, expected_amount, search_tokens, "
    "created_at, updated_at, deleted_at, version, custom"
)
VALUE_INSERT = "customer_id, field_id, " + ", ".join(VALUE_COLUMNS)


def build(db, args):
    """Tables, data, indexes, statistics; returns the figures of the build."""
    info = {"index_seconds": {}, "stages": {}}
    stats = {
        "free_text": Counter(),
        "free_text_rows": 0,
        "numbers": [],
        "choice": Counter(),
        "multi": Counter(),
    }
    watch = _common.Stopwatch()
    create_tables(db)
    if db.is_pg:
        db.run("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        db.run("CREATE EXTENSION IF NOT EXISTS btree_gin")
    counts = Counter()
    if db.is_pg:
        with db.conn.transaction(), db.conn.cursor() as cursor:
            for customer_rows, value_rows in generate(args.customers, args.seed, True, stats):
                with cursor.copy(f"COPY cf_customers ({CUSTOMER_COLUMNS}) FROM STDIN") as copy:
                    for row in customer_rows:
                        copy.write_row(row)
                with cursor.copy(f"COPY cf_values ({VALUE_INSERT}) FROM STDIN") as copy:
                    for row in value_rows:
                        copy.write_row(row)
                counts["customers"] += len(customer_rows)
                counts["values"] += len(value_rows)
            # The ids came with the rows: move the identity past them.
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('cf_customers', 'id'), max(id)) FROM cf_customers"
            )
    else:
        db.begin()
        marks = ", ".join("?" * 16)
        value_marks = ", ".join("?" * (2 + len(VALUE_COLUMNS)))
        for customer_rows, value_rows in generate(args.customers, args.seed, False, stats):
            db.conn.executemany(
                f"INSERT INTO cf_customers ({CUSTOMER_COLUMNS}) VALUES ({marks})", customer_rows
            )
            db.conn.executemany(
                f"INSERT INTO cf_values ({VALUE_INSERT}) VALUES ({value_marks})",
                value_rows,
            )
            counts["customers"] += len(customer_rows)
            counts["values"] += len(value_rows)
        db.commit()
    watch.lap(f"generate and load ({counts['customers']:,} customers, {counts['values']:,} values)")
    side = []
    if not db.is_pg:
        # "contains" through an index on SQLite: FTS5's trigram tokenizer answers LIKE
        # '%abc%' (3 characters or more) from the index. Kept by the app or triggers.
        side = [
            "CREATE VIRTUAL TABLE cf_text_fts USING fts5(value, field_id UNINDEXED, customer_id UNINDEXED,"
            " tokenize='trigram', detail='none')",
            "INSERT INTO cf_text_fts (value, field_id, customer_id) SELECT text_value, field_id, customer_id"
            " FROM cf_values WHERE text_value IS NOT NULL",
        ]
    steps = (("customers", CUSTOMER_INDEXES), ("A", a_indexes(db)), ("B", b_indexes(db)), ("FTS5", side))
    for layout, statements in steps:
        if not statements:
            continue
        for statement in statements:
            started = time.perf_counter()
            db.run(statement)
            named = re.match(r"CREATE (?:VIRTUAL TABLE|INDEX|STATISTICS) (\w+)", statement)
            name = named.group(1) if named else "cf_text_fts (fill)"
            info["index_seconds"][name] = round(time.perf_counter() - started, 3)
        watch.lap(f"indexes {layout} ({len(statements)})")
    analyze(db)
    watch.lap("VACUUM ANALYZE" if db.is_pg else "ANALYZE (sampled, as sqlite-optimize)")
    info["stages"] = {k: round(v, 1) for k, v in watch.stages.items()}
    info["counts"] = dict(counts)
    info["examples"] = pick_examples(stats)
    db.run("INSERT INTO cf_meta VALUES ('build', :value)", {"value": json.dumps(info, ensure_ascii=False)})
    db.run(
        "INSERT INTO cf_meta VALUES ('args', :value)",
        {"value": json.dumps({"customers": args.customers, "seed": args.seed})},
    )
    return info


def analyze(db):
    if db.is_pg:
        db.run("VACUUM ANALYZE cf_customers")
        db.run("VACUUM ANALYZE cf_values")
        db.run("ANALYZE cf_fields")
        db.run("ANALYZE cf_choices")
    else:
        db.run("PRAGMA analysis_limit = 1000")
        db.run("ANALYZE")


def pick_examples(stats):
    """The filter values: a choice of ~20 % of the filled values (the 2nd most common
    option) and f4 between its 30th and 70th percentile (~40 %); the wide variant the
    most common option and the 10th–90th percentile; a free-text word in ~1 % of the
    free texts; the multiple choice option with the median count."""
    ranked = [choice for choice, _n in stats["choice"].most_common()]
    numbers = sorted(stats["numbers"])

    def at(fraction):
        return numbers[int(fraction * (len(numbers) - 1))]

    rows = stats["free_text_rows"]
    latin = [(word, n) for word, n in stats["free_text"].items() if word.isascii() and len(word) >= 6]
    needle = min(latin, key=lambda item: (abs(item[1] / rows - 0.01), item[0]))[0]
    multi = sorted(stats["multi"].items(), key=lambda item: (item[1], item[0]))
    return {
        "choice": ranked[1],
        "low": at(0.30),
        "high": at(0.70),
        "wide_choice": ranked[0],
        "wide_low": at(0.10),
        "wide_high": at(0.90),
        "needle": needle,
        "option": multi[len(multi) // 2][0],
    }


# ---- the statements --------------------------------------------------------------------

LISTED = "c.team_id = :team AND c.deleted_at IS NULL"


def a_filter(form, field, column, condition):
    """One custom field condition of layout A, in the given form."""
    if form == "join":
        raise ValueError("joins are written in a_from")
    if form == "exists":
        return (
            f"EXISTS (SELECT 1 FROM cf_values v WHERE v.customer_id = c.id AND v.field_id = :{field}"
            f" AND v.{column} {condition})"
        )
    return (
        f"c.id IN (SELECT v.customer_id FROM cf_values v WHERE v.field_id = :{field}"
        f" AND v.{column} {condition})"
    )


def a_query(form, filters, sort, count=False, cte=False, once=False):
    """filters: [(field parameter, value column, condition)]; sort: "date" (f7 desc,
    customers without a value last) or "updated"."""
    joins, where = [], [LISTED]
    for n, (field, column, condition) in enumerate(filters):
        if form == "join":
            joins.append(
                f"JOIN cf_values v{n} ON v{n}.customer_id = c.id AND v{n}.field_id = :{field}"
                f" AND v{n}.{column} {condition}"
            )
        else:
            where.append(a_filter(form, field, column, condition))
    conditions = " AND ".join(where)
    if count:
        return (
            f"SELECT count(*) FROM (SELECT c.id FROM cf_customers c {' '.join(joins)} WHERE {conditions}"
            f" LIMIT {COUNT_LIMIT + 1}) AS matching"
        )
    if sort == "date":
        joins.append("LEFT JOIN cf_values s ON s.customer_id = c.id AND s.field_id = :sort_field")
        key = "s.date_value"
    else:
        key = "c.updated_at"
    order = f"{key} DESC NULLS LAST, c.id DESC" if sort == "date" else f"{key} DESC, c.id DESC"
    body = f"FROM cf_customers c {' '.join(joins)} WHERE {conditions}"
    if once:
        return f"SELECT c.id, {key} {body} LIMIT {FEW_MATCHES + 1}"
    if cte:
        return (
            f"WITH matches AS MATERIALIZED (SELECT c.id AS id, {key} AS key {body}) SELECT id FROM matches"
            f" ORDER BY key DESC{' NULLS LAST' if sort == 'date' else ''}, id DESC"
            " LIMIT :limit OFFSET :offset"
        )
    return f"SELECT c.id {body} ORDER BY {order} LIMIT :limit OFFSET :offset"


def b_query(db, form, filters, sort, count=False, cte=False, once=False):
    """filters: [(field id, condition on its expression, or a whole condition when the
    field id is None)]. form: expr (literal paths, as the indexes), bound (the path as
    a bound parameter, as SQLAlchemy's JSON operators render it)."""
    where = [LISTED]
    for field_id, condition in filters:
        if field_id is None:
            where.append(condition)
        else:
            where.append(
                f"{b_bound(db, field_id) if form == 'bound' else b_expression(db, field_id)} {condition}"
            )
    conditions = " AND ".join(where)
    if count:
        return (
            f"SELECT count(*) FROM (SELECT c.id FROM cf_customers c WHERE {conditions}"
            f" LIMIT {COUNT_LIMIT + 1}) AS matching"
        )
    if sort == "date":
        key = b_bound(db, DATE_FIELD, text=True) if form == "bound" else b_expression(db, DATE_FIELD)
        order = f"{key} DESC NULLS LAST, c.id DESC"
    else:
        key, order = "c.updated_at", "c.updated_at DESC, c.id DESC"
    table = "cf_customers c"
    if not filters and sort == "date" and form == "expr" and not db.is_pg:
        # More than COUNT_LIMIT matches: the app walks the sort's index (its
        # SORT_INDEXES hint, salesdesk/ledger/queries.py), which SQLite would not choose.
        table += f" INDEXED BY ix_cf_custom_f{DATE_FIELD}"
    body = f"FROM {table} WHERE {conditions}"
    if once:
        return f"SELECT c.id, {key} {body} LIMIT {FEW_MATCHES + 1}"
    if cte:
        return (
            f"WITH matches AS MATERIALIZED (SELECT c.id AS id, {key} AS key {body}) SELECT id FROM matches"
            f" ORDER BY key DESC{' NULLS LAST' if sort == 'date' else ''}, id DESC"
            " LIMIT :limit OFFSET :offset"
        )
    return f"SELECT c.id {body} ORDER BY {order} LIMIT :limit OFFSET :offset"


def b_bound(db, field_id, text=False):
    """What SQLAlchemy renders for Customer.custom["f4"].as_numeric(18, 2) and the like:
    the path is a bound parameter."""
    kind = next(t for i, _k, t, _label in FIELDS if i == field_id)
    if text or kind in ("text", "long_text", "date"):
        cast = "VARCHAR"
    elif kind in ("number", "money"):
        cast = "NUMERIC(18, 2)"
    else:
        cast = "INTEGER"
    if db.is_pg:
        return f"CAST((c.custom ->> :path_f{field_id}::TEXT) AS {cast})"
    return f"CAST(JSON_EXTRACT(c.custom, :path_f{field_id}) AS {cast})"


def b_multi(db, form):
    if db.is_pg:
        return "c.custom @> CAST(:option_json AS jsonb)"  # GIN jsonb_path_ops
    path = ":path_f9" if form == "bound" else "'$.f9'"
    return f"EXISTS (SELECT 1 FROM json_each(c.custom, {path}) AS j WHERE j.value = :option)"


# Strategies: (name, layout, description)
STRATEGIES = {
    "a-join": ("A", "JOIN cf_values per filter, LEFT JOIN for the sort key"),
    "a-exists": ("A", "EXISTS per filter, LEFT JOIN for the sort key"),
    "a-in": ("A", "customers.id IN (SELECT customer_id FROM cf_values …) per filter, LEFT JOIN for the sort"),
    "a-in-cte": (
        "A",
        "a-in, the page sorted from a MATERIALIZED CTE of the matches (the app's FEW_MATCHES path)",
    ),
    "b-expr": ("B", "expression per field, path literal as in the index"),
    "b-expr-cte": ("B", "b-expr, the page sorted from a MATERIALIZED CTE of the matches"),
    "b-gin": ("B", "PostgreSQL: the choice as custom @> '{\"f8\": X}' (GIN), the number by expression"),
    "b-bound": ("B", "as SQLAlchemy's JSON operators render it: the path a bound parameter"),
    "a-join-once": (
        "A",
        "a-join; up to 2,000 matches read once with their sort key, counted and sorted in Python",
    ),
    "b-expr-once": (
        "B",
        "b-expr; up to 2,000 matches read once with their sort key, counted and sorted in Python",
    ),
    "fts": (
        "A or B",
        "SQLite: an FTS5 trigram table of the text values (field_id, customer_id), either layout",
    ),
}


def statements(db, strategy, ex):
    """{scenario: [(label, sql, params)]} of one strategy (reads only)."""
    if strategy == "fts":
        if db.is_pg:
            return {}
        params = {"team": READ_TEAM, "limit": PAGE, "offset": 0, "text_field": FREE_TEXT_FIELD}
        params["pattern"] = f"%{ex['needle']}%"
        found = (
            f"{LISTED} AND c.id IN (SELECT customer_id FROM cf_text_fts WHERE value LIKE :pattern"
            " AND field_id = :text_field)"
        )
        parts = [
            ("count", f"SELECT count(*) FROM (SELECT c.id FROM cf_customers c WHERE {found}"
             f" LIMIT {COUNT_LIMIT + 1}) AS m", params),
            ("page", f"SELECT c.id FROM cf_customers c WHERE {found} ORDER BY c.updated_at DESC, c.id DESC"
             " LIMIT :limit OFFSET :offset", params),
        ]  # fmt: skip
        return {
            "text-contains": [
                (label, f"/* cf:text-contains:{label}:fts */ {sql}", p) for label, sql, p in parts
            ]
        }
    layout = STRATEGIES[strategy][0]
    form = strategy.split("-")[1]
    cte = strategy.endswith("-cte")
    once = strategy.endswith("-once")
    base = {"team": READ_TEAM, "limit": PAGE, "offset": 0}
    if layout == "A":
        base.update(choice_field=CHOICE_FIELD, number_field=NUMBER_FIELD, sort_field=DATE_FIELD)
        filtered = [
            ("choice_field", "choice_id", "= :choice"),
            ("number_field", "number_value", "BETWEEN :low AND :high"),
        ]
        text = [("text_field", "text_value", "LIKE :pattern")]
        multi = [("multi_field", "choice_id", "= :option")]

        def page(filters, sort):
            return a_query(form, filters, sort, cte=cte)

        def matches(filters, sort):
            return a_query(form, filters, sort, once=True)

        def count(filters):
            return a_query(form, filters, None, count=True)

        base.update(text_field=FREE_TEXT_FIELD, multi_field=MULTI_FIELD)
    else:
        if strategy == "b-gin" and not db.is_pg:
            return {}
        choice = (
            (None, "c.custom @> CAST(:choice_json AS jsonb)")
            if strategy == "b-gin"
            else (CHOICE_FIELD, "= :choice")
        )
        filtered = [choice, (NUMBER_FIELD, "BETWEEN :low AND :high")]
        text = [(FREE_TEXT_FIELD, "LIKE :pattern")]
        multi = [(None, b_multi(db, form))]

        def page(filters, sort):
            return b_query(db, form, filters, sort, cte=cte)

        def matches(filters, sort):
            return b_query(db, form, filters, sort, once=True)

        def count(filters):
            return b_query(db, form, filters, None, count=True)

        if form == "bound":
            for field_id in (CHOICE_FIELD, NUMBER_FIELD, FREE_TEXT_FIELD, DATE_FIELD, MULTI_FIELD):
                base[f"path_f{field_id}"] = f'$."f{field_id}"' if not db.is_pg else f"f{field_id}"
    narrow = {**base, "choice": ex["choice"], "low": ex["low"], "high": ex["high"]}
    narrow["choice_json"] = json.dumps({"f8": ex["choice"]})
    wide = {**base, "choice": ex["wide_choice"], "low": ex["wide_low"], "high": ex["wide_high"]}
    wide["choice_json"] = json.dumps({"f8": ex["wide_choice"]})
    texted = {**base, "pattern": f"%{ex['needle']}%"}
    multied = {**base, "option": ex["option"], "option_json": json.dumps({"f9": [ex["option"]]})}
    out = {
        "filter": [("count", count(filtered), narrow), ("page", page(filtered, "date"), narrow)],
        "filter-offset500": [("page", page(filtered, "date"), {**narrow, "offset": 500})],
        "filter-wide": [("count", count(filtered), wide), ("page", page(filtered, "date"), wide)],
        "text-contains": [("count", count(text), texted), ("page", page(text, "updated"), texted)],
        "multi-contains": [("count", count(multi), multied), ("page", page(multi, "updated"), multied)],
        "sort-only": [("page", page([], "date"), base)],
    }
    if strategy not in ("a-join", "b-expr"):
        out.pop("sort-only")  # without filters the same statement as a-join / b-expr
    if once:
        # Up to FEW_MATCHES matches with their sort key in one statement; counted and
        # sorted here. More: the count and the page as the others (see execute).
        sorts = {"filter": "date", "filter-offset500": "date", "filter-wide": "date"}
        sorts.update({"text-contains": "updated", "multi-contains": "updated"})
        conditions = {"filter": filtered, "filter-offset500": filtered, "filter-wide": filtered}
        conditions.update({"text-contains": text, "multi-contains": multi})
        for name, parts in out.items():
            out[name] = [("once", matches(conditions[name], sorts[name]), parts[0][2]), *parts]
    if strategy == "b-gin":
        for name in ("text-contains", "multi-contains"):
            out.pop(name)  # the same statements as b-expr
    return {
        name: [(label, f"/* cf:{name}:{label}:{strategy} */ {sql}", params) for label, sql, params in parts]
        for name, parts in out.items()
    }


SCENARIOS = {
    "filter": "choice = X (~20 % of filled) AND number BETWEEN p30 AND p70, sort date DESC NULLS LAST:"
    " count + page 1",
    "filter-offset500": "the same, page 11 (OFFSET 500)",
    "filter-wide": "the most common choice AND number BETWEEN p10 AND p90: count + page 1",
    "text-contains": "free text LIKE '%word%' (~1 % of filled), sort updated DESC: count + page 1",
    "multi-contains": "multiple choice contains option Y (~1/3 of filled), sort updated DESC: count + page 1",
    "sort-only": "no custom filter, sort by the date field DESC NULLS LAST: page 1",
}


# ---- writes ----------------------------------------------------------------------------


def new_values(rng, pg, words):
    """All ten fields filled (so an update also inserts the values that were missing)."""
    out = {
        1: rng.choice(INDUSTRY_WORDS),
        2: " ".join(rng.choices(words, k=5)),
        3: "".join(rng.choices(HAN, k=200)),
        4: rng.randint(1, 5_000),
        5: Decimal(rng.randint(0, 10_000)) / 100,
        6: Decimal(rng.randint(0, 10**9)) / 100,
        7: TODAY + timedelta(days=rng.randint(-365, 1_000)),
        8: rng.choice(CHOICES[8]),
        9: sorted(rng.sample(CHOICES[9], rng.randint(1, 3))),
        10: rng.random() < 0.5,
    }
    return out


def db_value(pg, field_id, value):
    if pg:
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def json_value(field_id, value):
    if field_id == 6:
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def now_value(pg):
    moment = datetime(2026, 12, 6, 12, 0, 0) + timedelta(microseconds=time.perf_counter_ns() // 1000 % 10**9)
    return moment if pg else moment.isoformat(" ")


def a_load(db, customer_id):
    return db.all(
        "/* cf:load:a */ SELECT field_id, text_value, long_text_value, number_value, date_value, bool_value,"
        " user_value, choice_id FROM cf_values WHERE customer_id = :id ORDER BY field_id, id",
        {"id": customer_id},
    )


def b_load(db, customer_id):
    row = db.one("/* cf:load:b */ SELECT custom FROM cf_customers WHERE id = :id", {"id": customer_id})
    return row[0] if db.is_pg else json.loads(row[0] or "{}")


def a_update(db, customer_id, values):
    """As an ORM's unit of work: load the rows, update changed ones by id, insert the
    missing, delete the options no longer chosen; bump the customer's version."""
    pg = db.is_pg
    db.begin()
    rows = db.all(
        "SELECT id, field_id, choice_id FROM cf_values WHERE customer_id = :id ORDER BY id",
        {"id": customer_id},
    )
    by_field = defaultdict(list)
    for value_id, field_id, choice_id in rows:
        by_field[field_id].append((value_id, choice_id))
    inserts = []
    for field_id, _key, kind, _label in FIELDS:
        column = COLUMN_OF[kind]
        value = values[field_id]
        if kind == "multiple_choice":
            have = {choice: value_id for value_id, choice in by_field[field_id]}
            gone = [value_id for choice, value_id in have.items() if choice not in value]
            for value_id in gone:
                db.run("DELETE FROM cf_values WHERE id = :id", {"id": value_id})
            inserts += [(field_id, column, choice) for choice in value if choice not in have]
        elif by_field[field_id]:
            db.run(
                f"UPDATE cf_values SET {column} = :value WHERE id = :id",
                {"value": db_value(pg, field_id, value), "id": by_field[field_id][0][0]},
            )
        else:
            inserts.append((field_id, column, db_value(pg, field_id, value)))
    if inserts:
        a_insert_values(db, customer_id, inserts)
    db.run(
        "UPDATE cf_customers SET updated_at = :now, version = version + 1 WHERE id = :id",
        {"now": now_value(pg), "id": customer_id},
    )
    db.commit()


def a_insert_values(db, customer_id, values):
    rows = []
    for field_id, column, value in values:
        row = {"customer_id": customer_id, "field_id": field_id, **dict.fromkeys(VALUE_COLUMNS)}
        row[column] = value
        rows.append(row)
    db.many(
        f"INSERT INTO cf_values ({VALUE_INSERT}) VALUES (:customer_id, :field_id, "
        + ", ".join(f":{column}" for column in VALUE_COLUMNS)
        + ")",
        rows,
    )


def b_update(db, customer_id, values):
    db.begin()
    document = b_load(db, customer_id)
    document.update({f"f{field_id}": json_value(field_id, value) for field_id, value in values.items()})
    db.run(
        "UPDATE cf_customers SET custom = :custom, updated_at = :now, version = version + 1 WHERE id = :id",
        {"custom": json.dumps(document, ensure_ascii=False), "now": now_value(db.is_pg), "id": customer_id},
    )
    db.commit()


NEW_CUSTOMER = (
    "INSERT INTO cf_customers (team_id, owner_id, stage, grade, name, sort_name, province, city,"
    " expected_amount, search_tokens, created_at, updated_at, deleted_at, version, custom)"
    " VALUES (:team, NULL, 'lead', 'C', :name, 'xin kehu', '浙江', '杭州', 0, 'xin kehu', :now, :now,"
    " NULL, 1, :custom) RETURNING id"
)


def a_insert(db, values):
    pg = db.is_pg
    db.begin()
    customer_id = db.one(
        NEW_CUSTOMER, {"team": WRITE_TEAM, "name": "新客户", "now": now_value(pg), "custom": None}
    )[0]
    rows = []
    for field_id, _key, kind, _label in FIELDS:
        value = values[field_id]
        column = COLUMN_OF[kind]
        if kind == "multiple_choice":
            rows += [(field_id, column, choice) for choice in value]
        else:
            rows.append((field_id, column, db_value(pg, field_id, value)))
    a_insert_values(db, customer_id, rows)
    db.commit()


def b_insert(db, values):
    db.begin()
    document = {f"f{field_id}": json_value(field_id, value) for field_id, value in values.items()}
    db.one(
        NEW_CUSTOMER,
        {
            "team": WRITE_TEAM,
            "name": "新客户",
            "now": now_value(db.is_pg),
            "custom": json.dumps(document, ensure_ascii=False),
        },
    )
    db.commit()


# ---- timing ----------------------------------------------------------------------------


def execute(db, parts, times):
    """Run one scenario's statements; returns the answer (rows per count/page statement)
    and adds each statement's milliseconds to `times`. A "once" statement reads up to
    FEW_MATCHES + 1 matches with their sort key: if that is all of them, the count and
    the page come from those rows; otherwise the count and page statements run."""
    if parts[0][0] == "once":
        _label, sql, params = parts[0]
        started = time.perf_counter()
        rows = db.all(sql, params)
        if len(rows) <= FEW_MATCHES:
            # ORDER BY key DESC NULLS LAST, id DESC
            ordered = sorted(rows, key=lambda row: (row[1] is not None, row[1], row[0]), reverse=True)
            page = [(row[0],) for row in ordered[params["offset"] : params["offset"] + params["limit"]]]
            times["once"] = (time.perf_counter() - started) * 1000
            return ([[(len(rows),)]] if any(label == "count" for label, _s, _p in parts) else []) + [page]
        times["once"] = (time.perf_counter() - started) * 1000
        parts = parts[1:]
    answer = []
    for label, sql, params in parts:
        started = time.perf_counter()
        answer.append(db.all(sql, params))
        times[label] = (time.perf_counter() - started) * 1000
    return answer


def headline(entry):
    """The figures of a whole scenario: count + page (or the one statement it has)."""
    return entry["total"] if "total" in entry else entry["page"]


def run_reads(db, chosen, examples, args, results, checks):
    strategies = {name: statements(db, name, examples) for name in chosen}
    for scenario, description in SCENARIOS.items():
        if args.only and not any(part in scenario for part in args.only.split(",")):
            continue
        runnable = [(name, parts[scenario]) for name, parts in strategies.items() if scenario in parts]
        if not runnable:
            continue
        if args.verbose:
            print(f"\n== {scenario}: {description}")
            for name, parts in runnable:
                for label, sql, params in parts:
                    used = {k: v for k, v in params.items() if re.search(rf":{k}\b", sql)}
                    print(f"-- {name} {label}\n{sql}\n   {used}")
        answers = {}
        for name, parts in runnable:
            for _ in range(max(1, args.warmup)):
                answers[name] = execute(db, parts, {})
        samples = {name: defaultdict(list) for name, _parts in runnable}
        cpu = {name: [] for name, _parts in runnable}
        server = dict.fromkeys(samples, 0.0)
        for _ in range(args.runs):
            for name, parts in runnable:
                times = {}
                cpu_started = time.process_time()
                server_started = db.server_cpu()
                execute(db, parts, times)
                server[name] += db.server_cpu() - server_started
                cpu[name].append((time.process_time() - cpu_started) * 1000)
                for label, elapsed in times.items():
                    samples[name][label].append(elapsed)
                if len(parts) > 1:
                    samples[name]["total"].append(sum(times.values()))
        reference_name, reference = next(iter(answers.items()))
        for name, answer in answers.items():
            if answer != reference:
                checks.append(f"{scenario}: {name} answers differently from {reference_name}")
        matches = (
            reference[0][0][0] if reference and len(reference[0]) == 1 and len(runnable[0][1]) > 1 else None
        )
        for name, _parts in runnable:
            entry = {label: summary(values) for label, values in samples[name].items()}
            entry["matches"] = matches
            entry["cpu_p50"] = summary(cpu[name])["p50"]
            # PostgreSQL: the server backend's CPU (clock ticks from /proc), mean per run.
            entry["server_cpu_mean"] = server[name] * 1000 / args.runs if db.is_pg else None
            entry["rows"] = len(answers[name][-1])
            results[scenario][name] = entry
            shown = headline(entry)
            flag = "  MISSES 50 ms" if shown["p95"] > TARGET_MS else ""
            parts_text = "  ".join(
                f"{label} {entry[label]['p50']:.1f}/{entry[label]['p95']:.1f}"
                for label in ("once", "count", "page")
                if label in entry
            )
            cpu_text = f"{entry['cpu_p50']:6.1f}" + (f" {entry['server_cpu_mean']:6.1f}" if db.is_pg else "")
            print(
                f"{scenario:<17} {name:<11} {shown['p50']:7.1f} {shown['p95']:7.1f} {shown['max']:7.1f}"
                f" {cpu_text}   {parts_text:<32} {'' if matches is None else matches:>6}{flag}",
                flush=True,
            )
        if db.is_pg:
            # psycopg prepares a statement at its 5th execution; PostgreSQL then plans it
            # for the parameters 5 times and may switch to a generic plan.
            for statement, generic, custom in db.all(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '/* cf:' || :scenario || ':%' ORDER BY statement",
                {"scenario": scenario},
            ):
                _cf, _scenario, label, name = statement.split("*/")[0][3:].strip().split(":")
                results[scenario][name][f"{label}_plans"] = {"generic": generic, "custom": custom}
                if args.verbose:
                    print(f"   prepared {name} {label}: generic plans {generic}, custom {custom}")


def run_writes(db, args, results, words):
    rng = random.Random(args.seed + 1)
    listed = "SELECT id FROM cf_customers WHERE team_id = :team AND deleted_at IS NULL ORDER BY id"
    ids = [row[0] for row in db.all(listed, {"team": WRITE_TEAM})]
    reads = [row[0] for row in db.all(listed, {"team": READ_TEAM})]
    targets = rng.sample(ids, 2 * (args.runs + args.warmup))
    loads = rng.sample(reads, args.runs + args.warmup)
    cases = {
        "load-values": {"A": lambda n: a_load(db, loads[n]), "B": lambda n: b_load(db, loads[n])},
        "insert-customer": {
            "A": lambda n: a_insert(db, new_values(rng, db.is_pg, words)),
            "B": lambda n: b_insert(db, new_values(rng, db.is_pg, words)),
        },
        "update-10-values": {
            "A": lambda n: a_update(db, targets[2 * n], new_values(rng, db.is_pg, words)),
            "B": lambda n: b_update(db, targets[2 * n + 1], new_values(rng, db.is_pg, words)),
        },
    }
    for scenario, layouts in cases.items():
        if args.only and not any(part in scenario for part in args.only.split(",")):
            continue
        samples = defaultdict(list)
        for n in range(args.warmup + args.runs):
            for layout, call in layouts.items():
                started = time.perf_counter()
                call(n)
                if n >= args.warmup:
                    samples[layout].append((time.perf_counter() - started) * 1000)
        for layout, values in samples.items():
            name = f"{layout.lower()}-write"
            entry = {"page": summary(values)}
            results[scenario][name] = entry
            shown = entry["page"]
            print(
                f"{scenario:<17} {name:<11} {shown['p50']:7.2f} {shown['p95']:7.2f} {shown['max']:7.2f}",
                flush=True,
            )


def plans(db, chosen, examples, args):
    """EXPLAIN (QUERY PLAN) of every statement (PostgreSQL: EXPLAIN ANALYZE, a plan for
    the parameters); --explain prints those of the filtered count and page."""
    out = {}
    for name in chosen:
        for scenario, parts in statements(db, name, examples).items():
            if args.only and not any(part in scenario for part in args.only.split(",")):
                continue
            for label, sql, params in parts:
                if db.is_pg:
                    lines = [row[0] for row in db.all("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)]
                else:
                    rows = db.all("EXPLAIN QUERY PLAN " + sql, params)
                    depth = {0: -1}
                    lines = []
                    for node, parent, _unused, detail in rows:
                        depth[node] = depth.get(parent, -1) + 1
                        lines.append("  " * depth[node] + detail)
                out[f"{scenario} {label} {name}"] = lines
                if args.explain and scenario == "filter":
                    print(f"\n-- {scenario} {label} {name}: {sql}")
                    for line in lines:
                        print("   ", line)
    return out


def sizes(db):
    """Bytes per table and index; the JSON documents' own size."""
    if db.is_pg:
        rows = db.all(
            "SELECT c.relname, pg_relation_size(c.oid) + coalesce(pg_relation_size(c.reltoastrelid), 0)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relname LIKE ANY (ARRAY['cf_%', 'ix_cf_%'])"
            " AND c.relkind IN ('r', 'i')"
        )
        json_bytes = db.one("SELECT sum(pg_column_size(custom)) FROM cf_customers")[0]
    else:
        rows = db.all(
            "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'cf_%' OR name LIKE 'ix_cf_%' GROUP BY name"
        )
        json_bytes = db.one("SELECT sum(length(CAST(custom AS BLOB))) FROM cf_customers")[0]
    out = {name: int(size) for name, size in rows}
    out["(cf_customers.custom documents)"] = int(json_bytes or 0)
    return out


def layout_sizes(sizes_by_name):
    a = sum(size for name, size in sizes_by_name.items() if name.startswith(("cf_values", "ix_cf_values")))
    b_indexes = sum(size for name, size in sizes_by_name.items() if name.startswith("ix_cf_custom_"))
    fts = sum(size for name, size in sizes_by_name.items() if name.startswith("cf_text_fts"))
    out = {
        "A: cf_values + its indexes (MB)": round(a / 2**20, 1),
        "B: JSON documents (MB)": round(sizes_by_name["(cf_customers.custom documents)"] / 2**20, 1),
        "B: expression/GIN indexes (MB)": round(b_indexes / 2**20, 1),
    }
    if fts:
        out["FTS5 trigram of the text values (MB)"] = round(fts / 2**20, 1)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="sqlite:////work/benchdata/cf.db")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", help="scenarios whose name contains one of these (comma-separated)")
    parser.add_argument("--strategies", help=f"comma-separated, of: {', '.join(STRATEGIES)}")
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of the filtered count and page"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="print every statement (and prepared-plan counts)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the tables of an earlier run with the same data"
    )
    parser.add_argument("--no-writes", action="store_true", help="skip the write scenarios")
    parser.add_argument("--tag", default="", help="suffix for the results file name")
    args = parser.parse_args(argv)
    db = Database(args.database_url)
    print(f"Custom fields storage on {db.backend} — {_common.machine()} — {datetime.now():%Y-%m-%d %H:%M}")
    print(f"load average before: {_common.load()}")
    info = None
    if args.reuse:
        db.create_if_missing(fresh=False)
        db.connect()
        try:
            stored = dict(db.all("SELECT key, value FROM cf_meta"))
        except Exception:  # noqa: BLE001 - no tables yet
            stored = {}
            if db.is_pg:
                db.conn.rollback()
        if stored and json.loads(stored["args"]) == {"customers": args.customers, "seed": args.seed}:
            info = json.loads(stored["build"])
            print("reusing the tables of an earlier run")
    if info is None:
        db.create_if_missing(fresh=True)
        db.connect()
        info = build(db, args)
    examples = info["examples"]
    print(f"examples: {examples}")
    version = db.one("SELECT version()" if db.is_pg else "SELECT sqlite_version()")[0]
    print(f"server: {version.split(' on ')[0]}")
    chosen = [name for name in STRATEGIES if not args.strategies or name in args.strategies.split(",")]
    if not db.is_pg:
        chosen = [name for name in chosen if name != "b-gin"]
    results, checks = defaultdict(dict), []
    header = f"{'scenario':<17} {'strategy':<11} {'p50':>7} {'p95':>7} {'max':>7} {'cpu':>6}"
    header += f" {'server':>6}" if db.is_pg else ""
    header += f"   {'count p50/p95  page p50/p95':<32} {'matches':>6}"
    print(header)
    print("-" * len(header))
    run_reads(db, chosen, examples, args, results, checks)
    explained = plans(db, chosen, examples, args)
    if not args.no_writes:
        rng = random.Random(args.seed)
        words, _cumulative, _latin = vocabulary(rng)
        run_writes(db, args, results, words)
    storage = sizes(db)
    print(f"load average after: {_common.load()}")
    for line in checks:
        print("CHECK FAILED:", line)

    # The final table: per scenario, A's and B's best strategy and the app's default forms.
    print("\nSummary: the best strategy of each layout (ms, count + page where both)")
    print(f"{'scenario':<17} {'A p50    p95  strategy':<28} {'B p50    p95  strategy':<28}")
    for scenario, by_strategy in results.items():
        best = {}
        for layout in ("A", "B"):
            candidates = [
                (headline(entry)["p95"], headline(entry)["p50"], name)
                for name, entry in by_strategy.items()
                if name.upper().startswith(layout)
            ]
            p95, p50, name = min(candidates) if candidates else (0, 0, "—")
            best[layout] = f"{p50:6.1f} {p95:6.1f}  {name}"
        print(f"{scenario:<17} {best['A']:<28} {best['B']:<28}")
    print("\nIndex build (s):", ", ".join(f"{k} {v}" for k, v in info["index_seconds"].items()))
    print("Sizes:", layout_sizes(storage))

    out = Path(_common.ROOT / "bench" / "results")
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"custom-fields-storage-{db.backend}{args.tag}.json"
    path.write_text(
        json.dumps(
            {
                "when": datetime.now().isoformat(timespec="seconds"),
                "machine": _common.machine(),
                "server": version,
                "args": vars(args),
                "build": info,
                "strategies": {name: STRATEGIES[name] for name in chosen},
                "scenarios": SCENARIOS,
                "results": results,
                "plans": explained,
                "sizes": storage,
                "layout_sizes": layout_sizes(storage),
                "checks": checks,
            },
            ensure_ascii=False,
            indent=1,
            default=str,
        )
    )
    print(f"(written to {path.relative_to(_common.ROOT)})")


if __name__ == "__main__":
    main()
