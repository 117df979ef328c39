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
    response = client_as(world.rep_a).get("/customers/export.csv?view=all&sort=name&direction=asc")
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
    rows = read_csv(client_as(world.rep_a2).get("/customers/export.csv?view=all"))
    header, *data = rows
    phones = {row[header.index("电话")] for row in data}
    assert phones == {"138****5678", "139****1111", "139****2222"}
    assert all(row[header.index("备注")] == "" for row in data)  # notes hidden too
    assert "13812345678" not in str(rows)


def test_formulas_in_names_are_neutralised(client_as, world, customers):
    rows = read_csv(client_as(world.admin).get("/customers/export.csv?view=all"))
    names = {row[0] for row in rows[1:]}
    assert names == {"苏州恒达精密机械有限公司", "'=cmd|' /C calc'!A0", "'+杭州云栖数据有限公司"}


def test_export_follows_the_filters(client_as, world, customers):
    rows = read_csv(client_as(world.admin).get(f"/customers/export.csv?view=all&owner={world.rep_a.id}"))
    assert [row[0] for row in rows[1:]] == ["苏州恒达精密机械有限公司"]


def test_xlsx_export(client_as, world, customers, everyone_exports):
    response = client_as(world.rep_b).get("/customers/export.xlsx?view=all&sort=name&direction=asc")
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
    client_as(world.rep_a).get("/customers/export.csv?view=all&grade=C")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.exported"))
    assert event.actor_id == world.rep_a.id
    assert (
        event.details["rows"] == 3
        and event.details["format"] == "csv"
        and event.details["filters"] == {"view": "all", "grade": "C"}
    )


def test_unknown_export_format_is_404(client_as, world):
    assert client_as(world.rep_a).get("/customers/export.pdf").status_code == 404


def test_csv_streams_through_a_real_server(app, world, customers, everyone_exports, live_server):
    from tests.helpers import LiveClient

    client = LiveClient(live_server, "rep.a2@test.example")
    with client.http.stream("GET", "/customers/export.csv?view=all") as response:
        assert response.status_code == 200
        body = b"".join(response.iter_bytes())
    client.close()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 4 and "138****5678" in str(rows)


# ---- who may export: an admin setting (issue 16) -----------------------------------------

ALL = ["'+杭州云栖数据有限公司", "'=cmd|' /C calc'!A0", "苏州恒达精密机械有限公司"]
OWN_OF_REP_A = ["苏州恒达精密机械有限公司"]
WHO_EXPORTS = {
    # scope: {role: rows exported, None for 403}
    "managers": {"rep_a": OWN_OF_REP_A, "support_a": None, "manager_a": ALL, "admin": ALL},
    "everyone": {"rep_a": ALL, "support_a": ALL, "manager_a": ALL, "admin": ALL},
    "admins": {"rep_a": None, "support_a": None, "manager_a": None, "admin": ALL},
}


@pytest.mark.parametrize("scope", WHO_EXPORTS)
@pytest.mark.parametrize("role", ["rep_a", "support_a", "manager_a", "admin"])
def test_who_exports_what_follows_the_setting(client_as, world, customers, scope, role):
    set_export_scope(scope)
    client = client_as(getattr(world, role))
    expected = WHO_EXPORTS[scope][role]
    response = client.get("/customers/export.csv?view=all&sort=name&direction=asc")
    listing = client.get("/customers").get_data(as_text=True)
    if expected is None:
        assert response.status_code == 403
        assert "管理员没有开放你导出客户的权限" in response.get_data(as_text=True)
        assert "/customers/export.xlsx" not in listing  # the menu is not offered
        return
    assert response.status_code == 200 and "/customers/export.xlsx" in listing
    assert sorted(row[0] for row in read_csv(response)[1:]) == expected


def test_the_default_lets_a_rep_export_only_their_own_in_xlsx(client_as, world, customers):
    response = client_as(world.rep_b).get("/customers/export.xlsx?view=all&sort=name&direction=asc")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert sorted(names) == ["'+杭州云栖数据有限公司", "'=cmd|' /C calc'!A0"]  # rep_b's two, not rep_a's
    # Filters narrow further; they never widen a rep's export.
    narrowed = client_as(world.rep_b).get(f"/customers/export.csv?view=all&owner={world.rep_a.id}")
    assert read_csv(narrowed)[1:] == []


def test_a_refused_export_is_not_audited(client_as, world, customers):
    set_export_scope("admins")
    assert client_as(world.manager_a).get("/customers/export.csv?view=all").status_code == 403
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.exported")) is None


def test_the_admin_chooses_who_exports_on_the_rules_page(client_as, world, customers):
    from tests.fixtures.rules import rule_settings_form

    admin = client_as(world.admin)
    page = admin.get("/rules").get_data(as_text=True)
    assert "谁可以导出客户列表" in page and "经理和管理员；销售只能导出自己负责的客户" in page
    assert admin.post("/rules", data=rule_settings_form(export_scope="admins")).status_code == 303
    assert client_as(world.manager_a).get("/customers/export.csv?view=all").status_code == 403
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "rules.settings_changed"))
    assert event.details["changes"] == {"export_scope": ["managers", "admins"]}
    refused = admin.post("/rules", data=rule_settings_form(export_scope="nobody"))
    assert refused.status_code == 422
    settings.forget()
    assert settings.current().export_scope == "admins"
