"""Import, as issue 16 asks: amounts as people write them, the invalid rows as an .xlsx
to fix and upload again, and who may be named as 负责人 (owner) by whom."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from salesdesk.extensions import db
from salesdesk.ledger import import_rows, importer
from salesdesk.ledger.models import Customer, ImportJob, ImportRow
from tests.web.test_ledger_import import csv_bytes, run_job, upload, verdicts

AMOUNTS = [
    ("金华双龙五金有限公司", "5万", "50000.00"),
    ("杭州云栖数据科技有限公司", "1.2亿", "120000000.00"),
    ("苏州恒达精密机械有限公司", "¥12,000", "12000.00"),
    ("宁波海港物流有限公司", "12,000.50", "12000.50"),
    ("温州瓯江贸易有限公司", "￥3.5万", "35000.00"),
    ("嘉兴粽子食品有限公司", "12000元", "12000.00"),
    ("绍兴黄酒贸易有限公司", "", "0.00"),
]
BAD_AMOUNTS = [
    ("台州黄岩模具有限公司", "-5万", "金额不能为负数"),
    ("丽水青田石材有限公司", "2万亿", "不是有效的金额"),
    ("衢州柑橘种植有限公司", "99999亿", "金额必须小于 1 万亿元"),
    ("湖州丝绸制品有限公司", "1.234", "两位小数"),
    ("舟山海鲜贸易有限公司", "约5万", "不是有效的金额"),
]


def html_of(response):
    return response.get_data(as_text=True)


def amount_file():
    rows = [[name, typed] for name, typed, _ in AMOUNTS] + [[name, typed] for name, typed, _ in BAD_AMOUNTS]
    return csv_bytes(headers=["客户名称", "预计金额"], rows=rows)


def test_the_dry_run_reads_amounts_as_people_write_them(client_as, world):
    rep = client_as(world.rep_a)
    job_id = run_job(rep, upload(rep, amount_file(), "金额.csv"))
    stored = db.session.scalars(select(ImportRow).where(ImportRow.job_id == job_id))
    rows = {row.row_number: row for row in stored}
    for number, (_name, _typed, amount) in enumerate(AMOUNTS, start=2):
        assert rows[number].status == "new"
        assert rows[number].values["prepared"]["fields"]["expected_amount"] == amount
    for number, (_name, _typed, message) in enumerate(BAD_AMOUNTS, start=2 + len(AMOUNTS)):
        assert rows[number].status == "invalid" and message in rows[number].message, rows[number].message
    page = html_of(rep.get(f"/customers/import/{job_id}?status=invalid"))
    assert "金额不能为负数（-5万）" in page and "“约5万”不是有效的金额" in page
    # The commit writes the exact amounts.
    assert rep.post(f"/customers/import/{job_id}/commit").status_code == 303
    importer.THREADS[job_id].join(30)
    db.session.rollback()
    written = dict(db.session.execute(select(Customer.name, Customer.expected_amount)).all())
    assert written == {name: Decimal(amount) for name, _typed, amount in AMOUNTS}


def test_the_customer_form_reads_amounts_the_same_way(client_as, world):
    from tests.fixtures.ledger import new_customer_form

    rep = client_as(world.rep_a)
    assert rep.post("/customers/new", data=new_customer_form(expected_amount="￥3.5万")).status_code == 303
    assert db.session.scalar(select(Customer.expected_amount)) == Decimal("35000.00")


# ---- the invalid rows as an .xlsx -------------------------------------------------------

HEADERS = ["客户名称", "手机", "预计金额", "=cmd|' /C calc'!A0", "备注"]
ROWS = [
    ["杭州云栖数据科技有限公司", "13911112222", "8万", "", "老客户"],
    ["宁波海港物流有限公司", "12", "5万", "", '=HYPERLINK("http://evil.example","点我")'],
    ["", "13700000000", "", "", "没有名称"],
    ["温州瓯江贸易有限公司", "13600000000", "-3万", "@SUM(A1)", ""],
]


def sheet_of(response):
    assert response.status_code == 200
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return sheet, [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_the_invalid_rows_download_as_xlsx_with_what_is_wrong(client_as, world):
    rep = client_as(world.rep_a)
    job_id = run_job(rep, upload(rep, csv_bytes(headers=HEADERS, rows=ROWS), "客户名单.csv"))
    assert verdicts(job_id) == {2: "new", 3: "invalid", 4: "invalid", 5: "invalid"}
    page = html_of(rep.get(f"/customers/import/{job_id}"))
    assert "有 3 行无效。" in page and f"/customers/import/{job_id}/invalid.xlsx" in page

    response = rep.get(f"/customers/import/{job_id}/invalid.xlsx")
    sheet, (header, *rows) = sheet_of(response)
    assert "%E5%BE%85%E4%BF%AE%E6%94%B9" in response.headers["Content-Disposition"]  # 客户名单-待修改.xlsx
    # The uploaded columns, a formula-looking header neutralised, and first what is wrong.
    assert header == ["错误原因", "客户名称", "手机", "预计金额", "'=cmd|' /C calc'!A0", "备注"]
    assert [row[1:] for row in rows] == [
        ["宁波海港物流有限公司", "12", "5万", None, '\'=HYPERLINK("http://evil.example","点我")'],
        [None, "13700000000", None, None, "没有名称"],
        ["温州瓯江贸易有限公司", "13600000000", "'-3万", "'@SUM(A1)", None],  # as the exporter does
    ]
    errors = [row[0] for row in rows]
    assert "不是有效的电话号码" in errors[0]
    assert errors[1] == "请填写客户名称。"
    assert errors[2] == "金额不能为负数（-3万）。"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert sheet.column_dimensions["A"].width == 48  # the messages can be read without widening

    # Still there after the valid rows are imported (the upload itself is deleted then).
    assert rep.post(f"/customers/import/{job_id}/commit").status_code == 303
    importer.THREADS[job_id].join(30)
    assert "有 3 行无效。" in html_of(rep.get(f"/customers/import/{job_id}"))
    assert sheet_of(rep.get(f"/customers/import/{job_id}/invalid.xlsx"))[1][0] == header


def test_the_fixed_file_uploads_again(client_as, world):
    rep = client_as(world.rep_a)
    job_id = run_job(rep, upload(rep, csv_bytes(headers=HEADERS, rows=ROWS), "客户名单.csv"))
    workbook = load_workbook(io.BytesIO(rep.get(f"/customers/import/{job_id}/invalid.xlsx").get_data()))
    sheet = workbook.active
    sheet["C2"] = "13512345678"  # the phone of 宁波海港
    sheet["B3"] = "衢州柑橘种植有限公司"  # the missing name
    sheet["D4"] = "3万"  # the negative amount
    sheet["F2"] = "'=HYPERLINK()"  # neutralised cells read back as they were typed
    fixed = io.BytesIO()
    workbook.save(fixed)
    again = run_job(rep, upload(rep, fixed.getvalue(), "客户名单-待修改.xlsx"))
    job = db.session.get(ImportJob, again)
    assert "name" in job.mapping and job.mapping["name"] == 1  # the error column is not mapped
    assert 0 not in job.mapping.values()
    assert verdicts(again) == {2: "new", 3: "new", 4: "new"}
    prepared = db.session.scalars(select(ImportRow.values).where(ImportRow.job_id == again)).all()
    assert prepared[0]["prepared"]["fields"]["notes"] == "=HYPERLINK()"


def test_no_invalid_rows_no_file_and_only_for_the_importer(client_as, world):
    rep = client_as(world.rep_a)
    clean = run_job(rep, upload(rep, csv_bytes(headers=HEADERS, rows=ROWS[:1]), "好.csv"))
    assert rep.get(f"/customers/import/{clean}/invalid.xlsx").status_code == 404
    assert "无效行" not in html_of(rep.get(f"/customers/import/{clean}"))
    messy = run_job(rep, upload(rep, csv_bytes(headers=HEADERS, rows=ROWS), "乱.csv"))
    assert client_as(world.rep_a2).get(f"/customers/import/{messy}/invalid.xlsx").status_code == 404
    assert client_as(world.manager_a).get(f"/customers/import/{messy}/invalid.xlsx").status_code == 404
    assert client_as(world.admin).get(f"/customers/import/{messy}/invalid.xlsx").status_code == 200


def test_a_file_not_checked_yet_has_no_invalid_rows(client_as, world):
    rep = client_as(world.rep_a)
    response = upload(rep, csv_bytes(headers=HEADERS, rows=ROWS), "乱.csv")
    job_id = int(response.headers["Location"].split("/")[3])
    assert rep.get(f"/customers/import/{job_id}/invalid.xlsx").status_code == 404


# ---- who may be named as owner -----------------------------------------------------------

OWNER_ROWS = [
    ["客户名称", "负责人"],
    ["绍兴黄酒贸易有限公司", "张三"],  # rep_a, team A
    ["嘉兴粽子食品有限公司", "rep.a@test.example"],  # rep_a by e-mail
    ["湖州丝绸制品有限公司", "李四"],  # rep_a2, team A
    ["舟山海鲜贸易有限公司", "王五"],  # rep_b, team B
    ["衢州柑橘种植有限公司", "谁也不是"],  # nobody
    ["丽水青田石材有限公司", ""],  # no owner
]


def owners_as(user):
    verdicts = import_rows.classify(user, OWNER_ROWS, {"name": 0, "owner": 1})
    return [(v.status, v.owner.display_name if v.owner else None, v.message) for v in verdicts]


def test_a_rep_names_only_themselves(world):
    rows = owners_as(world.rep_a)
    assert [row[:2] for row in rows] == [
        ("new", "张三"),
        ("new", "张三"),
        ("invalid", None),
        ("invalid", None),
        ("invalid", None),
        ("new", None),
    ]
    assert rows[2][2] == (
        "不能把负责人设为 李四：你导入的客户都归你负责。请清空这一格，导入后如需转给别人，请找经理分配。"
    )
    assert "不能把负责人设为 王五" in rows[3][2]
    assert rows[4][2] == "找不到负责人“谁也不是”（不是在职的销售或经理）。"


def test_a_manager_assigns_within_their_team(world):
    rows = owners_as(world.manager_a)
    assert [row[:2] for row in rows] == [
        ("new", "张三"),
        ("new", "张三"),
        ("new", "李四"),
        ("invalid", None),
        ("invalid", None),
        ("new", None),
    ]
    assert rows[3][2] == "王五 不在你的团队：经理只能把客户分配给本团队的人。"


def test_an_admin_assigns_to_anyone(world):
    rows = owners_as(world.admin)
    assert [row[:2] for row in rows] == [
        ("new", "张三"),
        ("new", "张三"),
        ("new", "李四"),
        ("new", "王五"),
        ("invalid", None),
        ("new", None),
    ]


def test_support_is_not_an_owner_to_name(world):
    file = [["客户名称", "负责人"], ["某某有限公司", "赵支持"]]
    rows = import_rows.classify(world.admin, file, {"name": 0, "owner": 1})
    assert rows[0].status == "invalid" and "找不到负责人“赵支持”" in rows[0].message


def test_a_rep_importing_a_colleagues_rows_sees_why_and_imports_the_rest(client_as, world):
    rep = client_as(world.rep_a)
    data = csv_bytes(headers=OWNER_ROWS[0], rows=OWNER_ROWS[1:])
    upload_page = html_of(rep.get("/customers/import"))
    assert "你导入的客户都归你负责" in upload_page and "5万、1.2亿" in upload_page
    job_id = run_job(rep, upload(rep, data, "同事的客户.csv"))
    assert "“负责人”一列只能填你自己" in html_of(rep.get(f"/customers/import/{job_id}/mapping"))
    assert rep.post(f"/customers/import/{job_id}/commit").status_code == 303
    importer.THREADS[job_id].join(30)
    db.session.rollback()
    owners = dict(db.session.execute(select(Customer.name, Customer.owner_id)).all())
    assert owners == {
        "绍兴黄酒贸易有限公司": world.rep_a.id,
        "嘉兴粽子食品有限公司": world.rep_a.id,
        "丽水青田石材有限公司": world.rep_a.id,
    }


def test_the_mapping_page_tells_a_manager_the_team_rule(client_as, world):
    manager = client_as(world.manager_a)
    data = csv_bytes(headers=OWNER_ROWS[0], rows=OWNER_ROWS[1:])
    job_id = run_job(manager, upload(manager, data, "团队.csv"))
    assert "可以填你团队里的销售和经理" in html_of(manager.get(f"/customers/import/{job_id}/mapping"))


@pytest.mark.parametrize("role", ["rep_a", "manager_a"])
def test_the_commit_checks_the_owner_again(client_as, world, role):
    """A row accepted in the preview whose owner moved to another team meanwhile."""
    user = getattr(world, role)
    client = client_as(user)
    job_id = run_job(client, upload(client, csv_bytes(headers=OWNER_ROWS[0], rows=OWNER_ROWS[1:2]), "x.csv"))
    world.rep_a.team_id = world.team_b.id
    db.session.commit()
    response = client.post(f"/customers/import/{job_id}/commit")
    assert response.status_code == 303
    importer.THREADS[job_id].join(30)
    db.session.rollback()
    job = db.session.get(ImportJob, job_id)
    if role == "rep_a":  # a rep names themselves, whatever their team
        assert job.status == "done"
    else:
        assert job.status == "failed" and job.error == "预览之后台账有变化，请重新预览。"
