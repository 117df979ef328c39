# ruff: noqa: E501  (the word list is long lines of Chinese)
"""Benchmark: knowledge-base search over 5,000 articles of about 2,000 Chinese
characters each, on SQLite or PostgreSQL. Not a test; run by hand:

    .venv/bin/python bench/kb_search.py --database-url sqlite
    .venv/bin/python bench/kb_search.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/kb_search.py --segmenters      # memory and first use: rjieba vs jieba

For PostgreSQL a scratch database is created next to the one named in the URL and
dropped afterwards. Generated text and the SQLite file stay in bench/data/ (git-ignored).
Timings are of search.search_articles(), the whole search a page makes: query,
loading the 20 articles, highlighted titles and snippets.
"""

import argparse
import json
import os
import random
import resource
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
sys.path.insert(0, str(ROOT))

WORDS = (  # noqa: SIM905
    "客户 报价 合同 回款 折扣 审批 发票 售后 服务 安装 实施 门店 考勤 门禁 平台 订阅 续费 预算 决策 老板 财务 法务 "
    "行政 演示 方案 需求 竞品 价格 成本 周期 交付 验收 质保 维修 退货 换货 培训 账号 数据 安全 合规 报表 排班 访客 "
    "设备 网络 断网 缓存 识别 人脸 刷卡 二维码 电话 微信 拜访 会议 邮件 跟进 线索 公海 领取 撞单 协作 经理 总监 销售 "
    "支持 团队 目标 业绩 季度 年度 计划 复盘 经验 问题 原因 风险 机会 优势 劣势 承诺 条款 违约 付款 节点 预付 尾款 "
    "连锁 写字楼 园区 工厂 学校 医院 酒店 餐饮 零售 物流 制造 政府 国企 民企 外企 "
    "我们 他们 需要 可以 应该 必须 已经 还是 因为 所以 如果 但是 然后 同时 首先 其次 最后 一般 通常 特别 尤其 "
    "确认 沟通 了解 解决 提供 安排 准备 检查 记录 提醒 申请 调整 优化 推进 完成 开始 结束 发送 收到 回复"
).split()
LATIN = ["CRM", "Salesdesk", "K3", "M5", "SaaS", "API", "Excel", "PDF", "VIP", "ROI", "SLA"]
PUNCT = "，，，、。"
QUERIES = [
    "报价",
    "合同",
    "回款",
    "折扣",
    "发票",
    "审批",  # two characters
    "报价单",
    "售后服务",
    "合同审批",
    "回款节点",  # longer words and phrases
    "客户 拜访",
    "折扣 审批 经理",
    "断网 缓存",  # several words
    "crm",
    "Salesdesk",
    "sla",
    "K3 门店",  # English and mixed
]
ONE_CHAR = ["税", "锁"]


def sentence(rng):
    parts = []
    for _ in range(rng.randint(6, 14)):
        parts.append(rng.choice(LATIN) if rng.random() < 0.02 else rng.choice(WORDS))
        if rng.random() < 0.12:
            parts.append(rng.choice(PUNCT[:-1]))
    return "".join(parts) + "。"


def article(rng, n):
    title = "".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4))) + f"（{n}）"
    paragraphs, length = [], 0
    while length < 2000:
        paragraph = "".join(sentence(rng) for _ in range(rng.randint(3, 6)))
        paragraphs.append(paragraph)
        length += len(paragraph)
    return title, "\n\n".join(paragraphs)


def corpus(count):
    path = DATA / f"corpus-{count}.json"
    if path.exists():
        return json.loads(path.read_text())
    rng = random.Random(2026)
    articles = [article(rng, n) for n in range(count)]
    DATA.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(articles, ensure_ascii=False))
    return articles


def scratch_postgres(url):
    from sqlalchemy import create_engine, make_url

    base = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"salesdesk_bench_{os.getpid()}_{secrets.token_hex(2)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False), admin, name


def seed(app, articles):
    from sqlalchemy import insert

    from salesdesk import clock
    from salesdesk.auth import services as accounts
    from salesdesk.auth.models import Role
    from salesdesk.extensions import db
    from salesdesk.kb import markdown, search
    from salesdesk.kb.models import Article, Revision

    team = accounts.get_or_create_team("基准团队")
    editor = accounts.create_user(
        email="editor@bench.example",
        display_name="编辑",
        role=Role.SUPPORT,
        password="bench-password",
        team=team,
    )
    rep = accounts.create_user(
        email="rep@bench.example", display_name="销售", role=Role.REP, password="bench-password", team=team
    )
    started = time.perf_counter()
    rows = []
    now = clock.now()
    for n, (title, body) in enumerate(articles):
        plain = markdown.plain_text(body)
        rows.append(
            {
                "title": title,
                "body": body,
                "plain_text": plain,
                "search_title": search.index_words(title),
                "search_body": search.index_words(plain),
                "status": "published" if n % 10 else "draft",
                "author_id": editor.id,
                "last_editor_id": editor.id,
                "version": 1,
                "major_version": 1,
                "view_count": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    segmented = time.perf_counter()
    for start in range(0, len(rows), 500):
        batch = rows[start : start + 500]
        ids = db.session.execute(insert(Article).returning(Article.id), batch).scalars().all()
        db.session.execute(
            insert(Revision),
            [
                {
                    "article_id": i,
                    "number": 1,
                    "title": r["title"],
                    "body": r["body"],
                    "author_id": editor.id,
                    "note": "",
                    "major": True,
                    "created_at": now,
                }
                for i, r in zip(ids, batch, strict=True)
            ],
        )
    db.session.commit()
    inserting = time.perf_counter() - segmented
    print(f"seeded {len(rows)} articles: segmenting {segmented - started:.1f} s, inserting {inserting:.1f} s")
    return rep, editor


def measure(user, queries, rounds):
    from salesdesk.extensions import db
    from salesdesk.kb import search

    for query in queries:  # warm caches and the segmenter
        search.search_articles(user, query)
    timings, cpu, per_query = [], [], {}
    for _ in range(rounds):
        for query in queries:
            started, started_cpu = time.perf_counter(), time.process_time()
            results = search.search_articles(user, query)
            elapsed = (time.perf_counter() - started) * 1000
            cpu.append((time.process_time() - started_cpu) * 1000)
            db.session.rollback()
            timings.append(elapsed)
            per_query.setdefault(query, (results.total, []))[1].append(elapsed)
    return timings, cpu, per_query


def baseline(count):
    """What the machine adds whatever the query: a search makes four round trips
    (three counts and lists, then loading the page's articles), timed here as four
    `SELECT 1`. On a busy machine this is most of the wall time."""
    from salesdesk.extensions import db

    timings = []
    for _ in range(count):
        started = time.perf_counter()
        for _ in range(4):
            db.session.execute(db.text("SELECT 1")).scalar()
        timings.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    print(
        f"\nbaseline, four SELECT 1: p50 {percentile(timings, 50):.1f} ms  p95 {percentile(timings, 95):.1f} ms"
    )
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def report(label, timings, cpu, per_query):
    print(f"\n{label}: {len(timings)} searches")
    print(
        f"  wall  p50 {percentile(timings, 50):6.1f} ms  p95 {percentile(timings, 95):6.1f} ms  max {max(timings):6.1f} ms"
    )
    print(
        f"  cpu   p50 {percentile(cpu, 50):6.1f} ms  p95 {percentile(cpu, 95):6.1f} ms  (this process only)"
    )
    for query, (total, values) in per_query.items():
        print(f"  {query:<16} {total:>5} hits  median {statistics.median(values):6.1f} ms")


def run(database_url, count, rounds, keep=False):
    from flask_migrate import upgrade

    from salesdesk import create_app
    from salesdesk.extensions import db

    DATA.mkdir(parents=True, exist_ok=True)
    cleanup = None
    if database_url == "sqlite":
        path = DATA / "kb_bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        database_url = f"sqlite:///{path}"
    elif database_url.startswith("postgres"):
        database_url, admin, name = scratch_postgres(database_url)
        cleanup = (admin, name)
    os.environ.setdefault("SALESDESK_INSTANCE_PATH", str(DATA / "instance"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    try:
        with app.app_context():
            upgrade()
            rep, editor = seed(app, corpus(count))
            if database_url.startswith("postgresql"):
                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
            baseline(rounds * len(QUERIES))
            report("rep (published only)", *measure(rep, QUERIES, rounds))
            report("editor (drafts too)", *measure(editor, QUERIES, max(1, rounds // 2)))
            report("one-character fallback (substring scan)", *measure(rep, ONE_CHAR, max(1, rounds // 2)))
            db.session.remove()
            db.engine.dispose()
    finally:
        if cleanup and keep:
            print(f"kept the scratch database {cleanup[1]}")
        elif cleanup:
            admin, name = cleanup
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


SEGMENTER_PROBE = """
import resource, sys, time
def rss():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024
name = sys.argv[1]
before = rss()
started = time.perf_counter()
module = __import__(name)
if name == "jieba":
    module.setLogLevel(60)
words = list(module.cut_for_search("报价单的折扣审批流程，回款周期和合同条款。"))
first = time.perf_counter() - started
started = time.perf_counter()
for _ in range(1000):
    list(module.cut_for_search("报价单的折扣审批流程，回款周期和合同条款。"))
per_call = (time.perf_counter() - started) / 1000 * 1e6
print(f"{name:<7} +{rss() - before:5.1f} MB resident  first use {first:5.2f} s  "
      f"then {per_call:5.1f} us per sentence  {words}")
"""


def segmenters():
    for name in ("rjieba", "jieba"):
        result = subprocess.run([sys.executable, "-c", SEGMENTER_PROBE, name], capture_output=True, text=True)
        print(result.stdout.strip() or f"{name}: not installed ({result.stderr.strip().splitlines()[-1]})")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="sqlite", help="'sqlite' (a file in bench/data) or a postgresql:// URL"
    )
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=20, help="times each query is run")
    parser.add_argument("--segmenters", action="store_true", help="compare rjieba and jieba instead")
    parser.add_argument("--keep", action="store_true", help="keep the scratch PostgreSQL database")
    args = parser.parse_args()
    if args.segmenters:
        segmenters()
    else:
        run(args.database_url, args.articles, args.rounds, args.keep)
    print(f"\npeak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
