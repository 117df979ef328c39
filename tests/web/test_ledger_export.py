"""Export: the filtered list as CSV (Excel-friendly) and XLSX, masked like the page,
with formula-looking cells neutralised."""

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from salesdesk import settings
from salesdesk.audit import AuditEvent
from salesdesk.database import write_transaction
from salesdesk.extensions import db
from salesdesk.settings import RuleSettings
from tests.fixtures.ledger import make_customer


@pytest.fixture
def customers(world):
    make_customer(
        world.rep_a,
        "苏州恒达精密机械有限公司",
        phone="13812345678",
        email="zhao@hengda.example",
        notes='=HYPERLINK("http://evil.example","click")',
        tags=["@risky"],
        expected_amount="1234567.89",
    )
    make_customer(world.rep_b, "=cmd|' /C calc'!A0", phone="13900001111", kind="person")
    make_customer(world.rep_b, "+杭州云栖数据有限公司", phone="13900002222")


def set_export_scope(scope):
    """What the admin chose on the rules page: who may export."""
    with write_transaction() as session:
        row = session.get(RuleSettings, 1) or RuleSettings(id=1, grade_periods={}, **settings.DEFAULTS)
        row.export_scope = scope
        session.add(row)
    settings.forget()


@pytest.fixture
def everyone_exports(world):
    set_export_scope("everyone")


def read_csv(response):
    body = response.get_data()
    assert body.startswith("\ufeff".encode())  # BOM: Excel opens UTF-8 correctly
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_export_as_the_owner(client_as, world, customers):
    response = client_as(world.rep_a).get("/customers/export.csv?sort=name&direction=asc")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    header, *data = rows
    assert header[0] == "客户名称" and "电话" in header
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in data}
    mine = by_name["苏州恒达精密机械有限公司"]
    assert mine["电话"] == "13812345678" and mine["邮箱"] == "zhao@hengda.example"
    assert mine["预计金额（元）"] == "1234567.89"
    assert mine["备注"].startswith("'=HYPERLINK")  # neutralised
    assert mine["标签"] == "'@risky"


def test_csv_export_masks_what_the_user_may_not_see(client_as, world, customers, everyone_exports):
    rows = read_csv(client_as(world.rep_a2).get("/customers/export.csv"))
    header, *data = rows
    phones = {row[header.index("电话")] for row in data}
    assert phones == {"138****5678", "139****1111", "139****2222"}
    assert all(row[header.index("备注")] == "" for row in data)  # notes hidden too
    assert "13812345678" not in str(rows)


def test_formulas_in_names_are_neutralised(client_as, world, customers):
    rows = read_csv(client_as(world.admin).get("/customers/export.csv"))
    names = {row[0] for row in rows[1:]}
    assert names == {"苏州恒达精密机械有限公司", "'=cmd|' /C calc'!A0", "'+杭州云栖数据有限公司"}


def test_export_follows_the_filters(client_as, world, customers):
    rows = read_csv(client_as(world.admin).get(f"/customers/export.csv?owner={world.rep_a.id}"))
    assert [row[0] for row in rows[1:]] == ["苏州恒达精密机械有限公司"]


def test_xlsx_export(client_as, world, customers, everyone_exports):
    response = client_as(world.rep_b).get("/customers/export.xlsx?sort=name&direction=asc")
    assert response.status_code == 200
    assert (
        response.headers["Content-Type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert by_name["苏州恒达精密机械有限公司"]["电话"] == "138****5678"  # masked for rep_b
    assert by_name["'=cmd|' /C calc'!A0"]["电话"] == "13900001111"
    assert by_name["苏州恒达精密机械有限公司"]["预计金额（元）"] == pytest.approx(1234567.89)
    # No cell is a formula.
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_exports_are_audited(client_as, world, customers, everyone_exports):
    client_as(world.rep_a).get("/customers/export.csv?grade=C")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.exported"))
    assert event.actor_id == world.rep_a.id
    assert (
        event.details["rows"] == 3
        and event.details["format"] == "csv"
        and event.details["filters"] == {"grade": "C"}
    )


def test_unknown_export_format_is_404(client_as, world):
    assert client_as(world.rep_a).get("/customers/export.pdf").status_code == 404


def test_csv_streams_through_a_real_server(app, world, customers, everyone_exports, live_server):
    from tests.helpers import LiveClient

    client = LiveClient(live_server, "rep.a2@test.example")
    with client.http.stream("GET", "/customers/export.csv") as response:
        assert response.status_code == 200
        body = b"".join(response.iter_bytes())
    client.close()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 4 and "138****5678" in str(rows)
