"""Import: upload, column mapping, dry run with a verdict for every row, and a commit
that writes all accepted rows or nothing."""

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from salesdesk.extensions import db
from salesdesk.ledger import column_mapping, customers, importer
from salesdesk.ledger.models import Contact, Customer, ImportJob, ImportRow, OwnershipChange
from tests.fixtures.ledger import make_customer

HEADERS = ["客户名称", "联系人", "手机", "邮箱", "行业", "地区", "来源", "负责人", "阶段", "预计金额", "备注"]
ROWS = [
    [
        "杭州云栖数据科技有限公司",
        "陈经理",
        "13911112222",
        "chen@yunqi.example",
        "软件",
        "浙江省杭州市",
        "官网",
        "",
        "线索",
        "88000",
        "",
    ],
    [
        "苏州恒达精密机械有限公司",
        "赵总",
        "138-1234-5678",
        "",
        "制造业",
        "江苏 苏州",
        "展会",
        "张三",
        "方案报价",
        "1,200,000.50",
        "老客户",
    ],
    [
        "騰飛科技（深圳）有限公司",
        "王总",
        "13800138000",
        "",
        "",
        "广东深圳",
        "",
        "",
        "",
        "",
        "",
    ],  # Traditional, exists
    ["苏州恒达精密机械有限公司", "赵总", "13812345678", "", "", "", "", "", "", "", ""],  # repeats row 3
    ["", "无名氏", "13700000000", "", "", "", "", "", "", "", ""],  # no name
    ["宁波海港物流有限公司", "周总", "12", "", "", "", "", "", "", "", ""],  # bad phone
    ["温州瓯江贸易有限公司", "吴总", "13600000000", "", "", "", "卫星", "", "", "", ""],  # unknown source
    ["金华双龙五金有限公司", "", "", "", "", "", "", "谁也不是", "", "", ""],  # unknown owner
]
EXPECTED = {
    2: "new",
    3: "new",
    4: "existing",
    5: "repeated",
    6: "invalid",
    7: "invalid",
    8: "invalid",
    9: "invalid",
}


def csv_bytes(encoding="utf-8", bom=False, rows=ROWS, headers=HEADERS):
    text = "\n".join(
        ",".join(
            f'"{cell}"' if ("," in cell or '"' in cell) else cell
            for cell in [c.replace('"', '""') for c in row]
        )
        for row in [headers, *rows]
    )
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows=ROWS, headers=HEADERS):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        # Phone numbers typed into Excel become numbers.
        sheet.append([int(c) if c.isdigit() and len(c) == 11 else c for c in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def existing(world):
    return make_customer(world.rep_b, "深圳市腾飞科技有限公司", phone="13900009999")


def upload(client, data, filename):
    # Encoded in memory: the test client would spool big bodies to a file it never closes.
    file = FileStorage(io.BytesIO(data), filename=filename)
    boundary, body = encode_multipart({"file": file, "csrf_token": client.csrf_token()})
    return client.post(
        "/customers/import", data=body, content_type=f"multipart/form-data; boundary={boundary}", csrf=False
    )


def read_job(job_id):
    """The job once its file is read: the upload waits 1.5 s for that, and a busy
    machine (the whole suite on two cores) can take longer; the guessed mapping is
    there only then."""
    importer.THREADS[job_id].join(30)
    db.session.rollback()
    return db.session.get(ImportJob, job_id)


def run_job(client, response):
    """Upload -> mapping (as guessed) -> preview, waiting for the background thread."""
    assert response.status_code == 303, response.get_data(as_text=True)
    job_id = int(response.headers["Location"].split("/")[3])
    job = read_job(job_id)
    mapping = {f"map-{field}": str(index) for field, index in job.mapping.items()}
    assert client.post(f"/customers/import/{job_id}/mapping", data=mapping).status_code == 303
    importer.THREADS[job_id].join(30)
    return job_id


def verdicts(job_id):
    db.session.rollback()
    return dict(
        db.session.execute(
            select(ImportRow.row_number, ImportRow.status).where(ImportRow.job_id == job_id)
        ).all()
    )


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (csv_bytes(), "客户.csv"),
        (csv_bytes(bom=True), "客户.csv"),
        (csv_bytes("gbk"), "客户.csv"),
        (xlsx_bytes(), "客户.xlsx"),
    ],
    ids=["utf8", "utf8-bom", "gbk", "xlsx"],
)
def test_preview_classifies_every_row(client_as, world, existing, data, filename):
    rep = client_as(world.rep_a)
    job_id = run_job(rep, upload(rep, data, filename))
    assert verdicts(job_id) == EXPECTED
    job = db.session.get(ImportJob, job_id)
    assert job.status == "previewed" and job.counts == {"new": 2, "existing": 1, "repeated": 1, "invalid": 4}
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1  # a dry run writes no customer
    page = rep.get(f"/customers/import/{job_id}").get_data(as_text=True)
    assert "查看已有客户" in page and "与第 3 行是同一客户" in page
    assert "不是有效的电话号码" in page and "无法识别的来源" in page and "谁也不是" in page


def test_headers_are_recognised_in_chinese_and_english():
    assert column_mapping.guess_mapping(
        ["公司名称", "联系人姓名", "手机号码", "E-mail", "所属行业", "负责人"]
    ) == {
        "name": 0,
        "contact_name": 1,
        "phone": 2,
        "email": 3,
        "industry": 4,
        "owner": 5,
    }
    assert column_mapping.guess_mapping(["Company Name", "Contact", "Mobile", "Email", "Owner", "Stage"]) == {
        "name": 0,
        "contact_name": 1,
        "phone": 2,
        "email": 3,
        "owner": 4,
        "stage": 5,
    }


def test_the_user_corrects_the_mapping(client_as, world):
    rep = client_as(world.rep_a)
    response = upload(
        rep,
        csv_bytes(headers=["A", "B", "C"], rows=[["杭州云栖数据科技有限公司", "陈经理", "13911112222"]]),
        "x.csv",
    )
    job_id = int(response.headers["Location"].split("/")[3])
    assert "— 不导入 —" in rep.get(f"/customers/import/{job_id}/mapping").get_data(as_text=True)
    missing = rep.post(f"/customers/import/{job_id}/mapping", data={})
    assert missing.status_code == 422 and "请为以下字段选择对应的列" in missing.get_data(as_text=True)
    twice = rep.post(f"/customers/import/{job_id}/mapping", data={"map-name": "0", "map-phone": "0"})
    assert twice.status_code == 422
    ok = rep.post(
        f"/customers/import/{job_id}/mapping",
        data={"map-name": "0", "map-contact_name": "1", "map-phone": "2"},
    )
    assert ok.status_code == 303
    importer.THREADS[job_id].join(30)
    assert verdicts(job_id) == {2: "new"}


def test_commit_writes_the_new_rows(client_as, world, existing):
    rep = client_as(world.rep_a)
    job_id = run_job(rep, upload(rep, xlsx_bytes(), "客户.xlsx"))
    assert rep.post(f"/customers/import/{job_id}/commit").status_code == 303
    importer.THREADS[job_id].join(30)
    db.session.rollback()
    customers = {c.name: c for c in db.session.scalars(select(Customer))}
    assert set(customers) == {
        "深圳市腾飞科技有限公司",
        "杭州云栖数据科技有限公司",
        "苏州恒达精密机械有限公司",
    }
    hengda = customers["苏州恒达精密机械有限公司"]
    assert hengda.owner_id == world.rep_a.id  # the 负责人 column named 张三 (rep_a)
    assert (hengda.stage, str(hengda.expected_amount), hengda.province, hengda.city) == (
        "quoted",
        "1200000.50",
        "江苏",
        "苏州",
    )
    assert customers["杭州云栖数据科技有限公司"].owner_id == world.rep_a.id  # the importing rep
    assert (
        db.session.scalar(
            select(func.count()).select_from(OwnershipChange).where(OwnershipChange.reason == "import")
        )
        == 2
    )
    assert db.session.get(ImportJob, job_id).status == "done"
    assert "已导入 2 个客户" in rep.get(f"/customers/import/{job_id}").get_data(as_text=True)
    # Imported customers are searchable at once.
    assert "苏州恒达" in rep.get("/customers?q=hdjm").get_data(as_text=True)


def test_finding_6_copies_that_look_the_same_are_found_and_names_imported_clean(client_as, world, existing):
    rows = [
        ["深圳市腾飞\u0301科技有限公司\ufe00", "", ""],
        ["深圳市腾\u3164飞科技", "王总", ""],
        ["某新公司", "王总", "١٣٩٠٠٠٠٩٩٩٩"],
        ["\u200b杭州云栖\u2060数据科技有限公司\u3164", "陈\u200b经理", "13911112222"],
        ["宁波\u200b海港物流有限公司", "周总", "12"],  # bad phone
    ]
    rows = [row + [""] * (len(HEADERS) - len(row)) for row in rows]
    rep = client_as(world.rep_a)
    job_id = run_job(rep, upload(rep, csv_bytes(rows=rows), "客户.csv"))
    assert verdicts(job_id) == {2: "existing", 3: "existing", 4: "existing", 5: "new", 6: "invalid"}
    stored = db.session.scalars(select(ImportRow).order_by(ImportRow.row_number))
    names = [row.values["name"] for row in stored]
    assert names[3:] == ["杭州云栖数据科技有限公司", "宁波海港物流有限公司"]
    assert rep.post(f"/customers/import/{job_id}/commit").status_code == 303
    importer.THREADS[job_id].join(30)
    db.session.rollback()
    imported = db.session.scalar(select(Customer).where(Customer.id != existing.id))
    assert (imported.name, imported.contacts[0].name) == ("杭州云栖数据科技有限公司", "陈经理")


def test_a_failure_mid_commit_writes_nothing(client_as, world, existing, monkeypatch):
    rep = client_as(world.rep_a)
    job_id = run_job(rep, upload(rep, csv_bytes(), "客户.csv"))
    original = customers.insert_customers

    def insert_then_fail(*args, **kwargs):
        original(*args, **kwargs)  # rows are in the transaction…
        raise RuntimeError("disk full")  # …when it fails

    monkeypatch.setattr(customers, "insert_customers", insert_then_fail)
    rep.post(f"/customers/import/{job_id}/commit")
    importer.THREADS[job_id].join(30)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1
    job = db.session.get(ImportJob, job_id)
    assert job.status == "failed" and "未写入任何数据" in job.error


def test_commit_refuses_when_the_ledger_changed_since_the_preview(client_as, world, existing):
    rep = client_as(world.rep_a)
    job_id = run_job(rep, upload(rep, csv_bytes(), "客户.csv"))
    make_customer(world.rep_b, "杭州云栖数据科技有限公司")  # someone else was faster
    rep.post(f"/customers/import/{job_id}/commit")
    importer.THREADS[job_id].join(30)
    db.session.rollback()
    job = db.session.get(ImportJob, job_id)
    assert job.status == "failed" and "请重新预览" in job.error
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 2


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "empty.csv", "文件是空的"),
        (b"\xef\xbb\xbf\n\n", "blank.csv", "文件是空的"),
        ("客户名称\n".encode(), "header-only.csv", "只有表头"),
        (b"PK\x03\x04not really a zip file at all", "broken.xlsx", "Excel 文件已损坏"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", "旧版 Excel"),
        (bytes(range(256)) * 10, "random.csv", "编码"),
        (b"\x00\x01\x02binary", "binary.csv", "不是 CSV"),
    ],
)
def test_unreadable_files_get_a_clear_message(client_as, world, data, filename, message):
    response = upload(client_as(world.rep_a), data, filename)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_files_over_the_limit_get_413(app, client_as, world):
    app.config["UPLOAD_LIMIT_MB"] = 1
    response = upload(client_as(world.rep_a), b"a" * (1024 * 1024 + 10), "big.csv")
    assert response.status_code == 413
    assert "1 MB" in response.get_data(as_text=True)


def test_the_request_limit_applies_before_reading(client_as, world):
    response = upload(client_as(world.rep_a), b"a" * (22 * 1024 * 1024), "huge.csv")
    assert response.status_code == 413


def test_imports_belong_to_their_uploader(client_as, world):
    rep = client_as(world.rep_a)
    job_id = int(upload(rep, csv_bytes(), "x.csv").headers["Location"].split("/")[3])
    other = client_as(world.rep_a2)
    assert other.get(f"/customers/import/{job_id}").status_code == 404
    assert other.post(f"/customers/import/{job_id}/mapping", data={"map-name": "0"}).status_code == 404
    assert other.post(f"/customers/import/{job_id}/commit").status_code == 404
    assert client_as(world.admin).get(f"/customers/import/{job_id}").status_code == 200


def test_support_does_not_import(client_as, world):
    assert upload(client_as(world.support_a), csv_bytes(), "x.csv").status_code == 422


def test_commit_before_preview_is_refused(client_as, world):
    rep = client_as(world.rep_a)
    job_id = int(upload(rep, csv_bytes(), "x.csv").headers["Location"].split("/")[3])
    assert rep.post(f"/customers/import/{job_id}/commit").status_code == 400


def test_progress_is_a_fragment_for_htmx(client_as, world):
    rep = client_as(world.rep_a)
    job_id = run_job(rep, upload(rep, csv_bytes(), "x.csv"))
    fragment = rep.get(f"/customers/import/{job_id}", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and 'id="import-status"' in fragment
