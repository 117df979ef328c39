"""Custom fields in the customer import and export (issue 20): columns mapped by the
fields' labels, each value read and checked in the dry run as a form would, unique
values checked against the ledger and the file; exports with a column per field, masked
per role and neutralised, retired fields' values kept; and an export imported again."""

import csv
import io
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from salesdesk.database import write_transaction
from salesdesk.extensions import db
from salesdesk.fields.definitions import Values, create_field, retire_field
from salesdesk.fields.models import FieldType
from salesdesk.ledger import column_mapping, import_rows, importer
from salesdesk.ledger.contacts import add_contact
from salesdesk.ledger.models import Contact, Customer, ImportJob, ImportRow
from salesdesk.ledger.validation import ContactInput
from tests.fixtures.ledger import make_customer
from tests.web.test_ledger_export import read_csv, set_export_scope
from tests.web.test_ledger_import import csv_bytes, read_job, upload, verdicts

MASK = "••••"
HYPERLINK = '=HYPERLINK("http://evil.example","点我")'


def add_field(actor, key, label_zh, label_en, kind, *, choices=(), entity="customer", **options):
    return create_field(
        actor,
        Values(
            label_zh=label_zh,
            label_en=label_en,
            type=kind,
            key=key,
            entity=entity,
            choices=[("", zh, en, False) for zh, en in choices],
            **options,
        ),
    )


@pytest.fixture
def fields(world):
    """Customer fields of every type an import reads."""
    admin = world.admin
    made = SimpleNamespace(
        segment=add_field(
            admin,
            "segment",
            "行业细分",
            "Segment",
            FieldType.SINGLE_CHOICE,
            choices=[("制造业", "Manufacturing"), ("零售", "Retail")],
        ),
        products=add_field(
            admin,
            "products",
            "关注产品",
            "Products",
            FieldType.MULTIPLE_CHOICE,
            choices=[("客户管理", "CRM"), ("财务软件", "ERP"), ("数据分析", "BI")],
        ),
        listed=add_field(admin, "listed", "是否上市", "Listed", FieldType.YES_NO),
        signed_on=add_field(admin, "signed_on", "签约日期", "Signing date", FieldType.DATE),
        budget=add_field(admin, "budget", "年度预算", "Annual budget", FieldType.MONEY),
        headcount=add_field(admin, "headcount", "员工人数", "Headcount", FieldType.NUMBER),
        liaison=add_field(admin, "liaison", "对接人", "Liaison", FieldType.USER),
        contract=add_field(admin, "contract", "合同编号", "Contract no", FieldType.TEXT, unique=True),
        rating=add_field(admin, "rating", "内部评价", "Internal rating", FieldType.TEXT, sensitive=True),
    )
    return made


HEADERS = [
    "客户名称",
    "行业细分",
    "关注产品",
    "是否上市",
    "签约日期",
    "年度预算",
    "员工人数",
    "对接人",
    "合同编号",
]
MAPPED = {
    "name": 0,
    "custom:segment": 1,
    "custom:products": 2,
    "custom:listed": 3,
    "custom:signed_on": 4,
    "custom:budget": 5,
    "custom:headcount": 6,
    "custom:liaison": 7,
    "custom:contract": 8,
}
ROWS = [
    [
        "杭州云栖数据科技有限公司",
        "制造业",
        "客户管理，数据分析",
        "是",
        "2026/12/6",
        "¥12,000",
        "250",
        "张三",
        "HT-001",
    ],
    [
        "苏州恒达精密机械有限公司",
        "Retail",
        "erp; CRM",
        "否",
        "2026年1月15日",
        "3.5万",
        "1,200",
        "rep.a2@test.example",
        "",
    ],
    ["宁波海港物流有限公司", "", "", "", "", "", "", "", ""],  # custom cells left empty
]


def expected_values(world):
    return {
        "杭州云栖数据科技有限公司": {
            "segment": "c1",
            "products": ["c1", "c3"],
            "listed": True,
            "signed_on": "2026-12-06",
            "budget": 1_200_000,  # fen
            "headcount": 250,
            "liaison": world.rep_a.id,
            "contract": "HT-001",
        },
        "苏州恒达精密机械有限公司": {
            "segment": "c2",
            "products": ["c1", "c2"],
            "listed": False,
            "signed_on": "2026-01-15",
            "budget": 3_500_000,
            "headcount": 1200,
            "liaison": world.rep_a2.id,
        },
        "宁波海港物流有限公司": {},
    }


def xlsx_bytes(headers, rows):
    """A workbook as Excel keeps one: real dates and numbers where they were typed so."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def excel_rows():
    first, second, third = (list(row) for row in ROWS)
    first[4], first[6] = datetime(2026, 12, 6), 250  # a date cell, a number cell
    second[5], second[6] = 35000, 1200  # the budget typed as a number
    return [first, second, third]


def job_of(response):
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].split("/")[3])


def check(client, job_id, mapping=None):
    """Post the mapping (as guessed unless given) and wait for the dry run."""
    mapping = read_job(job_id).mapping if mapping is None else mapping
    form = {f"map-{target}": str(index) for target, index in mapping.items()}
    response = client.post(f"/customers/import/{job_id}/mapping", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)
    importer.THREADS[job_id].join(30)
    return job_id


def commit(client, job_id):
    assert client.post(f"/customers/import/{job_id}/commit").status_code == 303
    importer.THREADS[job_id].join(30)
    db.session.rollback()
    return db.session.get(ImportJob, job_id)


def rows_of(job_id):
    db.session.rollback()
    return {
        row.row_number: row for row in db.session.scalars(select(ImportRow).where(ImportRow.job_id == job_id))
    }


def custom_of(name):
    return db.session.scalar(select(Customer.custom).where(Customer.name == name))


# ---- import ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (lambda: csv_bytes(bom=True, rows=ROWS, headers=HEADERS), "客户.csv"),
        # GBK has no ¥ (U+00A5): its files hold the full-width ￥.
        (
            lambda: csv_bytes("gbk", rows=[[c.replace("¥", "￥") for c in r] for r in ROWS], headers=HEADERS),
            "客户.csv",
        ),
        (lambda: xlsx_bytes(HEADERS, excel_rows()), "客户.xlsx"),
    ],
    ids=["utf8-bom", "gbk", "xlsx"],
)
def test_custom_columns_are_mapped_by_label_read_and_imported(client_as, world, fields, data, filename):
    rep = client_as(world.rep_a)
    job_id = job_of(upload(rep, data(), filename))
    assert read_job(job_id).mapping == MAPPED  # guessed by the labels
    page = rep.get(f"/customers/import/{job_id}/mapping").get_data(as_text=True)
    assert 'name="map-custom:segment"' in page and "行业细分" in page
    check(rep, job_id)
    assert verdicts(job_id) == {2: "new", 3: "new", 4: "new"}
    job = commit(rep, job_id)
    assert job.status == "done", job.error
    for name, values in expected_values(world).items():
        assert custom_of(name) == values, name


def test_english_labels_match_too_and_exact_labels_come_first(world, fields):
    headers = ["Company", "Annual budget (CNY)", "SEGMENT", "签约金额", "金额", "Contract no"]
    assert column_mapping.guess_mapping(headers, column_mapping.mapping_fields()) == {
        "name": 0,
        "custom:budget": 1,  # the label within the header
        "custom:segment": 2,
        "expected_amount": 4,  # the built-in spelling, exactly
        "custom:contract": 5,
    }


def test_bad_values_are_reported_per_row_with_the_field_and_not_imported(client_as, world, fields):
    bad = [
        ("台州黄岩模具有限公司", 1, "金融", "行业细分"),
        ("丽水青田石材有限公司", 2, "客户管理、区块链", "关注产品"),
        ("衢州柑橘种植有限公司", 3, "也许", "是否上市"),
        ("湖州丝绸制品有限公司", 4, "明年春天", "签约日期"),
        ("舟山海鲜贸易有限公司", 5, "很多", "年度预算"),
        ("嘉兴粽子食品有限公司", 6, "十二", "员工人数"),
        ("绍兴黄酒贸易有限公司", 7, "查无此人", "对接人"),
    ]
    rows = [ROWS[0]]
    for name, column, value, _label in bad:
        row = [name] + [""] * (len(HEADERS) - 1)
        row[column] = value
        rows.append(row)
    rep = client_as(world.rep_a)
    job_id = check(rep, job_of(upload(rep, csv_bytes(rows=rows, headers=HEADERS), "客户.csv")))
    stored = rows_of(job_id)
    assert stored[2].status == "new"
    for number, (_name, _column, value, label) in enumerate(bad, start=3):
        assert stored[number].status == "invalid"
        assert label in stored[number].message and value.split("、")[-1] in stored[number].message
    page = rep.get(f"/customers/import/{job_id}?status=invalid").get_data(as_text=True)
    assert all(label in page for *_rest, label in bad) and "查无此人" in page
    job = commit(rep, job_id)
    assert job.status == "done" and job.counts == {"new": 1, "existing": 0, "repeated": 0, "invalid": 7}
    assert db.session.scalars(select(Customer.name)).all() == [ROWS[0][0]]


def test_a_required_custom_field_must_be_mapped(client_as, world, fields):
    add_field(world.admin, "code", "客户编码", "Customer code", FieldType.TEXT, required=True)
    rep = client_as(world.rep_a)
    job_id = job_of(
        upload(
            rep, csv_bytes(rows=[["杭州云栖数据科技有限公司", "X1"]], headers=["客户名称", "编码"]), "x.csv"
        )
    )
    page = rep.get(f"/customers/import/{job_id}/mapping").get_data(as_text=True)
    assert 'name="map-custom:code"' in page
    missing = rep.post(f"/customers/import/{job_id}/mapping", data={"map-name": "0"})
    assert missing.status_code == 422
    assert "请为以下字段选择对应的列" in missing.get_data(as_text=True) and "客户编码" in missing.get_data(
        as_text=True
    )
    assert db.session.get(ImportJob, job_id).status == "uploaded"
    check(rep, job_id, {"name": 0, "custom:code": 1})
    assert commit(rep, job_id).status == "done"
    assert custom_of("杭州云栖数据科技有限公司")["code"] == "X1"


def test_a_required_custom_field_left_empty_makes_its_row_invalid(client_as, world, fields):
    add_field(world.admin, "code", "客户编码", "Customer code", FieldType.TEXT, required=True)
    rep = client_as(world.rep_a)
    rows = [["杭州云栖数据科技有限公司", "X1"], ["苏州恒达精密机械有限公司", ""]]
    job_id = job_of(upload(rep, csv_bytes(rows=rows, headers=["客户名称", "客户编码"]), "x.csv"))
    check(rep, job_id)
    stored = rows_of(job_id)
    assert stored[2].status == "new" and stored[3].status == "invalid" and "客户编码" in stored[3].message


@pytest.mark.parametrize(
    "target",
    ["custom:rating", "custom:nothing", "custom:contact_note", "bogus"],
    ids=["retired", "unknown", "of-contacts", "not-a-field"],
)
def test_a_column_for_a_retired_or_unknown_field_is_refused(client_as, world, fields, target):
    add_field(world.admin, "contact_note", "联系人备注", "", FieldType.TEXT, entity="contact")
    rep = client_as(world.rep_a)
    job_id = job_of(
        upload(rep, csv_bytes(rows=[["杭州云栖数据科技有限公司", "好"]], headers=["客户名称", "X"]), "x.csv")
    )
    retire_field(world.admin, fields.rating.id)
    response = rep.post(f"/customers/import/{job_id}/mapping", data={"map-name": "0", f"map-{target}": "1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert (
        ("内部评价" in html) if target == "custom:rating" else "这里没有这个字段，请刷新页面后重试。" in html
    )
    assert "Traceback" not in html
    job = db.session.get(ImportJob, job_id)
    assert job.status == "uploaded" and job.mapping == {"name": 0}  # nothing saved
    # Left at "not imported", the field of an older page is no reason to refuse.
    ok = rep.post(f"/customers/import/{job_id}/mapping", data={"map-name": "0", "map-custom:rating": ""})
    assert ok.status_code == 303
    importer.THREADS[job_id].join(30)


def test_a_field_retired_after_the_mapping_fails_the_dry_run_clearly(client_as, world, fields, monkeypatch):
    rep = client_as(world.rep_a)
    job_id = job_of(upload(rep, csv_bytes(rows=ROWS, headers=HEADERS), "x.csv"))
    original = importer.set_mapping

    def map_then_retire(*args, **kwargs):
        job = original(*args, **kwargs)
        retire_field(world.admin, fields.budget.id)  # by an admin, meanwhile
        return job

    monkeypatch.setattr(importer, "set_mapping", map_then_retire)
    check(rep, job_id)
    job = db.session.get(ImportJob, job_id)
    assert job.status == "failed" and "年度预算" in job.error
    assert "年度预算" in rep.get(f"/customers/import/{job_id}").get_data(as_text=True)


def test_unique_values_held_by_a_customer_or_an_earlier_row_are_flagged(client_as, world, fields):
    holder = make_customer(world.rep_b, "宁波海港物流有限公司", custom={"contract": "HT-001"})
    rows = [
        ["杭州云栖数据科技有限公司", "HT-001"],  # held by the customer above
        ["苏州恒达精密机械有限公司", "HT-777"],
        ["温州瓯江贸易有限公司", "HT-777"],  # the same as row 3
        ["金华双龙五金有限公司", ""],  # empty values are never the same
        ["嘉兴粽子食品有限公司", ""],
    ]
    rep = client_as(world.rep_a)
    job_id = check(rep, job_of(upload(rep, csv_bytes(rows=rows, headers=["客户名称", "合同编号"]), "x.csv")))
    stored = rows_of(job_id)
    assert {number: row.status for number, row in stored.items()} == {
        2: "existing",
        3: "new",
        4: "repeated",
        5: "new",
        6: "new",
    }
    assert stored[2].duplicate_of_id == holder.id
    assert "HT-001" in stored[2].message and "宁波海港物流有限公司" in stored[2].message
    assert stored[4].duplicate_of_row == 3 and "HT-777" in stored[4].message
    page = rep.get(f"/customers/import/{job_id}").get_data(as_text=True)
    assert "宁波海港物流有限公司" in page and f"/customers/{holder.id}" in page
    job = commit(rep, job_id)
    assert job.status == "done", job.error
    held = dict(db.session.execute(select(Customer.name, Customer.custom)).all())
    assert held["苏州恒达精密机械有限公司"] == {"contract": "HT-777"}
    assert held["宁波海港物流有限公司"] == {"contract": "HT-001"}
    assert "温州瓯江贸易有限公司" not in held and "杭州云栖数据科技有限公司" not in held


def test_a_unique_number_is_the_same_number_however_it_is_written(client_as, world, fields):
    add_field(world.admin, "customer_no", "客户编号", "Customer no", FieldType.NUMBER, unique=True)
    holder = make_customer(world.rep_b, "宁波海港物流有限公司", custom={"customer_no": "1001"})
    rows = [
        ["杭州云栖数据科技有限公司", "1,001"],
        ["苏州恒达精密机械有限公司", "2002.5"],
        ["温州瓯江贸易有限公司", "2,002.50"],
        ["金华双龙五金有限公司", "3003"],
    ]
    rep = client_as(world.rep_a)
    job_id = check(rep, job_of(upload(rep, csv_bytes(rows=rows, headers=["客户名称", "客户编号"]), "x.csv")))
    stored = rows_of(job_id)
    assert {number: row.status for number, row in stored.items()} == {
        2: "existing",
        3: "new",
        4: "repeated",
        5: "new",
    }
    assert stored[2].duplicate_of_id == holder.id and "宁波海港物流有限公司" in stored[2].message
    assert commit(rep, job_id).status == "done"
    assert custom_of("金华双龙五金有限公司") == {"customer_no": 3003}


def test_a_unique_value_taken_after_the_preview_stops_the_commit(client_as, world, fields):
    rep = client_as(world.rep_a)
    rows = [["杭州云栖数据科技有限公司", "HT-777"], ["苏州恒达精密机械有限公司", "HT-778"]]
    job_id = check(rep, job_of(upload(rep, csv_bytes(rows=rows, headers=["客户名称", "合同编号"]), "x.csv")))
    make_customer(world.rep_b, "宁波海港物流有限公司", custom={"contract": "HT-778"})  # meanwhile
    job = commit(rep, job_id)
    assert job.status == "failed" and "请重新预览" in job.error
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1


def test_a_unique_value_taken_during_the_commit_is_reported_cleanly(client_as, world, fields, monkeypatch):
    """A save between the commit's own check and its inserts: the unique index refuses
    the import, which writes nothing and says so (not "failed unexpectedly")."""
    rep = client_as(world.rep_a)
    rows = [["杭州云栖数据科技有限公司", "HT-777"], ["苏州恒达精密机械有限公司", "HT-778"]]
    job_id = check(rep, job_of(upload(rep, csv_bytes(rows=rows, headers=["客户名称", "合同编号"]), "x.csv")))
    make_customer(world.rep_b, "宁波海港物流有限公司", custom={"contract": "HT-778"})
    monkeypatch.setattr(import_rows, "existing_keys", lambda *args, **kwargs: {})  # the check saw nothing
    job = commit(rep, job_id)
    assert job.status == "failed" and "请重新预览" in job.error and "意外" not in job.error
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1


def test_a_field_made_required_after_the_preview_stops_the_commit(client_as, world, fields):
    rep = client_as(world.rep_a)
    job_id = check(rep, job_of(upload(rep, csv_bytes(rows=ROWS, headers=HEADERS), "x.csv")))
    add_field(world.admin, "code", "客户编码", "Customer code", FieldType.TEXT, required=True)
    job = commit(rep, job_id)
    assert job.status == "failed" and ("preview" in job.error or "预览" in job.error)
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


# ---- export ------------------------------------------------------------------------------


def every_value(world, *, contract):
    return {
        "segment": "c1",
        "products": ["c1", "c3"],
        "listed": "yes",
        "signed_on": "2026-12-06",
        "budget": "12000.50",
        "headcount": "250",
        "liaison": str(world.rep_a.id),
        "contract": contract,
        "rating": "很好",
    }


@pytest.fixture
def filled(world, fields):
    """rep_a's customer with every field filled (a formula in a text field), rep_b's
    with a few."""
    mine = make_customer(
        world.rep_a, "苏州恒达精密机械有限公司", custom=every_value(world, contract=HYPERLINK)
    )
    theirs = make_customer(
        world.rep_b,
        "杭州云栖数据科技有限公司",
        custom={"rating": "一般", "headcount": "3.25", "listed": "no"},
    )
    return SimpleNamespace(mine=mine, theirs=theirs)


CUSTOM_HEADERS = [
    "行业细分",
    "关注产品",
    "是否上市",
    "签约日期",
    "年度预算",
    "员工人数",
    "对接人",
    "合同编号",
    "内部评价",
]


def by_name(rows):
    header, *data = rows
    return header, {row[0]: dict(zip(header, row, strict=True)) for row in data}


def test_csv_export_has_a_column_per_field_with_values_as_imports_read_them(client_as, world, filled):
    header, rows = by_name(read_csv(client_as(world.admin).get("/customers/export.csv?view=all")))
    assert header[-len(CUSTOM_HEADERS) :] == CUSTOM_HEADERS  # after the built-in columns, in order
    mine = rows["苏州恒达精密机械有限公司"]
    assert [mine[h] for h in CUSTOM_HEADERS] == [
        "制造业",
        "客户管理、数据分析",
        "是",
        "2026-12-06",
        "12000.50",
        "250",
        "张三",
        "'" + HYPERLINK,  # neutralised
        "很好",
    ]
    theirs = rows["杭州云栖数据科技有限公司"]
    assert (theirs["员工人数"], theirs["是否上市"], theirs["行业细分"]) == ("3.25", "否", "")


def test_xlsx_export_keeps_numbers_amounts_and_dates_as_such(client_as, world, filled):
    response = client_as(world.admin).get("/customers/export.xlsx?view=all")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    cells = {row[0].value: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)}
    mine = cells["苏州恒达精密机械有限公司"]
    assert mine["签约日期"].is_date and mine["签约日期"].value.date() == date(2026, 12, 6)
    assert mine["年度预算"].data_type == "n" and mine["年度预算"].value == pytest.approx(12000.5)
    assert mine["员工人数"].data_type == "n" and mine["员工人数"].value == 250
    assert mine["合同编号"].data_type == "s" and mine["合同编号"].value == "'" + HYPERLINK
    assert (mine["关注产品"].value, mine["是否上市"].value, mine["对接人"].value) == (
        "客户管理、数据分析",
        "是",
        "张三",
    )
    assert cells["杭州云栖数据科技有限公司"]["员工人数"].value == pytest.approx(3.25)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_sensitive_values_are_masked_for_whom_may_not_see_the_details(client_as, world, filled, fmt):
    set_export_scope("everyone")  # a rep exports the whole list, others' customers masked

    def export(user):
        response = client_as(user).get(f"/customers/export.{fmt}?view=all")
        assert response.status_code == 200
        if fmt == "csv":
            return by_name(read_csv(response))[1]
        sheet = load_workbook(io.BytesIO(response.get_data())).active
        return by_name([[cell.value for cell in row] for row in sheet.iter_rows()])[1]

    owner, colleague, admin = export(world.rep_a), export(world.rep_a2), export(world.admin)
    assert owner["苏州恒达精密机械有限公司"]["内部评价"] == "很好"  # their own
    assert owner["杭州云栖数据科技有限公司"]["内部评价"] == MASK  # rep_b's, in another team
    assert colleague["苏州恒达精密机械有限公司"]["内部评价"] == MASK
    assert colleague["苏州恒达精密机械有限公司"]["对接人"] == "张三"  # not sensitive: shown
    assert admin["杭州云栖数据科技有限公司"]["内部评价"] == "一般"
    assert "很好" not in str(colleague)


def test_the_default_scope_lets_a_rep_export_their_own_with_their_values(client_as, world, filled):
    rows = by_name(read_csv(client_as(world.rep_b).get("/customers/export.csv?view=all")))[1]
    assert (
        list(rows) == ["杭州云栖数据科技有限公司"] and rows["杭州云栖数据科技有限公司"]["内部评价"] == "一般"
    )


def test_retired_fields_keep_their_values_in_exports(client_as, world, fields, filled):
    retire_field(world.admin, fields.budget.id)
    empty = add_field(world.admin, "unused", "未用字段", "", FieldType.TEXT)
    retire_field(world.admin, empty.id)
    header, rows = by_name(read_csv(client_as(world.admin).get("/customers/export.csv?view=all")))
    retired = [h for h in header if h.startswith("年度预算")]
    assert retired == ["年度预算（已停用）"]  # marked as retired
    assert rows["苏州恒达精密机械有限公司"][retired[0]] == "12000.50"
    assert not any(h.startswith("未用字段") for h in header)  # no values: no column
    sheet = load_workbook(
        io.BytesIO(client_as(world.admin).get("/customers/export.xlsx?view=all").get_data())
    ).active
    assert retired[0] in [cell.value for cell in next(sheet.iter_rows(max_row=1))]


# ---- export, then import again -------------------------------------------------------------


def renamed(rows, header, names):
    """The exported rows as another company's: new names and contract numbers."""
    name_at, contract_at = header.index("客户名称"), header.index("合同编号")
    out = []
    for row in rows:
        row = list(row)
        row[name_at] = names[row[name_at]]
        if row[contract_at]:
            row[contract_at] = f"{row[contract_at]}-2"
        out.append(row)
    return out


NEW_NAMES = {
    "苏州恒达精密机械有限公司": "宁波海港物流有限公司",
    "杭州云栖数据科技有限公司": "温州瓯江贸易有限公司",
}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_again_with_its_custom_values(client_as, world, filled, fmt):
    admin = client_as(world.admin)
    exported = admin.get(f"/customers/export.{fmt}?view=all").get_data()
    if fmt == "csv":
        header, *rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
        data = csv_bytes(bom=True, rows=renamed(rows, header, NEW_NAMES), headers=header)
    else:
        sheet = load_workbook(io.BytesIO(exported)).active
        header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        data = xlsx_bytes(header, renamed(rows, header, NEW_NAMES))
    job_id = job_of(upload(admin, data, f"again.{fmt}"))
    mapping = read_job(job_id).mapping
    assert {target for target in mapping if target.startswith("custom:")} == {
        f"custom:{key}" for key in ("segment", "products", "listed", "signed_on", "budget")
    } | {f"custom:{key}" for key in ("headcount", "liaison", "contract", "rating")}
    check(admin, job_id)
    assert set(verdicts(job_id).values()) == {"new"}, rows_of(job_id)
    assert commit(admin, job_id).status == "done"
    for old, new in NEW_NAMES.items():
        before, after = custom_of(old), custom_of(new)
        if "contract" in before:
            before = dict(before, contract=before["contract"] + "-2")
        assert after == before, new


def test_an_english_export_imports_again_by_the_english_labels(client_as, world, filled):
    with write_transaction():
        db.session.merge(world.admin).locale = "en"
    admin = client_as(world.admin)
    header, *rows = read_csv(admin.get("/customers/export.csv?view=all"))
    assert "Segment" in header and "Signing date" in header
    name_at, contract_at = header.index("Customer name"), header.index("Contract no")
    for row in rows:
        row[name_at] = NEW_NAMES[row[name_at]]
        row[contract_at] = row[contract_at] and row[contract_at] + "-2"
    job_id = job_of(upload(admin, csv_bytes(rows=rows, headers=header), "again.csv"))
    assert "custom:segment" in read_job(job_id).mapping
    check(admin, job_id)
    assert commit(admin, job_id).status == "done"
    assert custom_of("宁波海港物流有限公司")["segment"] == "c1"
    assert custom_of("宁波海港物流有限公司")["signed_on"] == "2026-12-06"


# ---- contacts' fields ----------------------------------------------------------------------


@pytest.fixture
def contact_fields(world):
    admin = world.admin
    return SimpleNamespace(
        birthday=add_field(admin, "birthday", "生日", "Birthday", FieldType.DATE, entity="contact"),
        hobby=add_field(admin, "hobby", "爱好", "Hobby", FieldType.TEXT, entity="contact", sensitive=True),
        gifts=add_field(admin, "gifts", "礼品预算", "Gift budget", FieldType.MONEY, entity="contact"),
    )


@pytest.fixture
def with_contacts(world, contact_fields):
    """rep_a's customer with two contacts: one with every contact field, one with a hobby
    that starts like a formula."""
    customer = make_customer(world.rep_a, "苏州恒达精密机械有限公司")
    first = {"birthday": "1980-05-01", "hobby": "钓鱼", "gifts": "800"}
    add_contact(world.rep_a, customer.id, ContactInput(name="王总", custom=first))
    add_contact(world.rep_a, customer.id, ContactInput(name="李工", custom={"hobby": "=1+2", "gifts": "200"}))
    make_customer(world.rep_a, "杭州云栖数据科技有限公司")  # no contact: empty cells
    return customer


def test_an_export_has_a_column_per_contact_field_with_each_contacts_values(client_as, world, with_contacts):
    header, rows = by_name(read_csv(client_as(world.admin).get("/customers/export.csv?view=all")))
    assert header[-3:] == ["联系人生日", "联系人爱好", "联系人礼品预算"]  # after the customers' own
    row = rows["苏州恒达精密机械有限公司"]
    assert (row["联系人生日"], row["联系人爱好"], row["联系人礼品预算"]) == (
        "1980-05-01",
        "钓鱼; =1+2",
        "800.00; 200.00",
    )
    assert [rows["杭州云栖数据科技有限公司"][h] for h in header[-3:]] == ["", "", ""]
    # One value keeps its type in Excel; a contact's formula is text, never a formula.
    sheet = load_workbook(
        io.BytesIO(client_as(world.admin).get("/customers/export.xlsx?view=all").get_data())
    ).active
    names = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    cells = {r[0].value: dict(zip(names, r, strict=True)) for r in sheet.iter_rows(min_row=2)}
    birthday = cells["苏州恒达精密机械有限公司"]["联系人生日"]
    assert birthday.is_date and birthday.value.date() == date(1980, 5, 1)
    assert all(cell.data_type != "f" for r in sheet.iter_rows() for cell in r)


def test_a_sensitive_contact_field_is_masked_like_the_contacts(client_as, world, with_contacts):
    set_export_scope("everyone")
    colleague = by_name(read_csv(client_as(world.rep_a2).get("/customers/export.csv?view=all")))[1]
    row = colleague["苏州恒达精密机械有限公司"]
    assert row["联系人爱好"] == MASK and row["联系人生日"] == "1980-05-01"
    assert "钓鱼" not in str(colleague)
    owner = by_name(read_csv(client_as(world.rep_a).get("/customers/export.csv?view=all")))[1]
    assert owner["苏州恒达精密机械有限公司"]["联系人爱好"] == "钓鱼; =1+2"


def test_a_retired_contact_field_with_values_stays_in_exports(
    client_as, world, contact_fields, with_contacts
):
    retire_field(world.admin, contact_fields.birthday.id)
    header, rows = by_name(read_csv(client_as(world.admin).get("/customers/export.csv?view=all")))
    assert "联系人生日（已停用）" in header
    assert rows["苏州恒达精密机械有限公司"]["联系人生日（已停用）"] == "1980-05-01"


def test_an_export_with_contact_fields_imports_again(client_as, world, contact_fields):
    customer = make_customer(world.rep_a, "苏州恒达精密机械有限公司")
    values = {"birthday": "1980-05-01", "hobby": "钓鱼", "gifts": "800"}
    add_contact(world.rep_a, customer.id, ContactInput(name="王总", custom=values))
    admin = client_as(world.admin)
    header, *rows = read_csv(admin.get("/customers/export.csv?view=all"))
    rows[0][header.index("客户名称")] = "宁波海港物流有限公司"
    job_id = job_of(upload(admin, csv_bytes(rows=rows, headers=header), "again.csv"))
    mapping = read_job(job_id).mapping
    assert {t: header[i] for t, i in mapping.items() if t.startswith("contact:")} == {
        "contact:birthday": "联系人生日",
        "contact:hobby": "联系人爱好",
        "contact:gifts": "联系人礼品预算",
    }
    check(admin, job_id)
    assert set(verdicts(job_id).values()) == {"new"}, rows_of(job_id)
    assert commit(admin, job_id).status == "done"
    imported = db.session.scalar(select(Customer).where(Customer.name == "宁波海港物流有限公司"))
    assert [(c.name, c.custom) for c in imported.contacts] == [
        ("王总", {"birthday": "1980-05-01", "hobby": "钓鱼", "gifts": 80000})
    ]


def contacts_of(name):
    customer = db.session.scalar(select(Customer).where(Customer.name == name))
    return [(c.name, c.custom) for c in customer.contacts]


def test_contact_columns_are_mapped_by_label_checked_and_give_the_rows_contact(
    client_as, world, contact_fields
):
    rows = [
        ["杭州云栖数据科技有限公司", "王总", "1980/5/1", "钓鱼", "¥800"],
        ["苏州恒达精密机械有限公司", "", "", "围棋", ""],  # a contact's field alone: a contact
        ["温州瓯江贸易有限公司", "李工", "五月", "", ""],  # not a date
        ["宁波海港物流有限公司", "", "", "", ""],  # no contact at all
    ]
    rep = client_as(world.rep_a)
    job_id = job_of(
        upload(rep, csv_bytes(rows=rows, headers=["客户名称", "联系人", "生日", "爱好", "礼品预算"]), "x.csv")
    )
    mapping = read_job(job_id).mapping
    assert mapping == {
        "name": 0,
        "contact_name": 1,
        "contact:birthday": 2,
        "contact:hobby": 3,
        "contact:gifts": 4,
    }
    check(rep, job_id)
    stored = rows_of(job_id)
    assert [stored[n].status for n in (2, 3, 4, 5)] == ["new", "new", "invalid", "new"]
    assert "生日" in stored[4].message
    assert commit(rep, job_id).status == "done"
    assert contacts_of("杭州云栖数据科技有限公司") == [
        ("王总", {"birthday": "1980-05-01", "hobby": "钓鱼", "gifts": 80000})
    ]
    assert contacts_of("苏州恒达精密机械有限公司") == [("联系人", {"hobby": "围棋"})]
    assert contacts_of("宁波海港物流有限公司") == []


def test_a_required_contact_field_is_asked_only_of_a_contact_when_mapped(client_as, world, contact_fields):
    add_field(world.admin, "role", "角色", "Role", FieldType.TEXT, entity="contact", required=True)
    rows = [["杭州云栖数据科技有限公司", "王总", ""], ["苏州恒达精密机械有限公司", "李工", "采购"]]
    rep = client_as(world.rep_a)
    # Not mapped: no reason to refuse the file (a new customer's first contact is alike).
    job_id = job_of(
        upload(rep, csv_bytes(rows=[r[:2] for r in rows], headers=["客户名称", "联系人"]), "a.csv")
    )
    check(rep, job_id)
    assert {row.status for row in rows_of(job_id).values()} == {"new"}
    # Mapped: a contact without it is invalid.
    job_id = job_of(upload(rep, csv_bytes(rows=rows, headers=["客户名称", "联系人", "角色"]), "b.csv"))
    check(rep, job_id)
    stored = rows_of(job_id)
    assert (stored[2].status, stored[3].status) == ("invalid", "new") and "角色" in stored[2].message


def test_a_unique_contact_field_is_a_duplicate_key_of_the_ledger_and_the_file(
    client_as, world, contact_fields
):
    add_field(world.admin, "badge", "工牌号", "Badge", FieldType.TEXT, entity="contact", unique=True)
    holder = make_customer(world.rep_b, "宁波海港物流有限公司")
    add_contact(world.rep_b, holder.id, ContactInput(name="赵总", custom={"badge": "B-1"}))
    rows = [
        ["杭州云栖数据科技有限公司", "王总", "B-1"],  # a contact of the customer above has it
        ["苏州恒达精密机械有限公司", "李工", "B-2"],
        ["温州瓯江贸易有限公司", "张工", "B-2"],  # as row 3
    ]
    rep = client_as(world.rep_a)
    job_id = check(
        rep, job_of(upload(rep, csv_bytes(rows=rows, headers=["客户名称", "联系人", "工牌号"]), "x.csv"))
    )
    stored = rows_of(job_id)
    assert [stored[n].status for n in (2, 3, 4)] == ["existing", "new", "repeated"]
    assert "宁波海港物流有限公司" in stored[2].message and "B-1" in stored[2].message
    assert "B-2" in stored[4].message and "3" in stored[4].message
    assert commit(rep, job_id).status == "done"
    badges = db.session.scalars(select(Contact.custom).where(Contact.custom.is_not(None))).all()
    assert sorted(c["badge"] for c in badges) == ["B-1", "B-2"]


def test_the_mapping_page_offers_contact_fields_by_their_column_name(client_as, world, contact_fields):
    rep = client_as(world.rep_a)
    job_id = job_of(
        upload(rep, csv_bytes(rows=[["杭州云栖数据科技有限公司"]], headers=["客户名称"]), "x.csv")
    )
    html = rep.get(f"/customers/import/{job_id}/mapping").get_data(as_text=True)
    assert '<select id="map-contact:birthday" name="map-contact:birthday"' in html and "联系人生日" in html
    assert "联系人爱好" in rep.get("/customers/import").get_data(as_text=True)
    retire_field(world.admin, contact_fields.hobby.id)
    response = rep.post(
        f"/customers/import/{job_id}/mapping", data={"map-name": "0", "map-contact:hobby": "0"}
    )
    assert response.status_code == 422 and "爱好" in response.get_data(as_text=True)
