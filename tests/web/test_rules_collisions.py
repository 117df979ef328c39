"""Collision reports (撞单申诉) and assignment (线索分配, 分配与转移, 停用交接)."""

import pytest
from sqlalchemy import func, select

from salesdesk.errors import DomainError
from salesdesk.extensions import db
from salesdesk.ledger import customers, ownership, validation
from salesdesk.ledger.models import Collaborator, Customer, OwnershipChange
from salesdesk.notifications import Notification
from salesdesk.rules import assignment, collisions
from salesdesk.rules.models import CollisionReport, Territory
from tests.fixtures.ledger import make_customer, new_customer_form
from tests.fixtures.rules import file
from tests.helpers import make_user


def html_of(response):
    return response.get_data(as_text=True)


def kinds(user):
    db.session.rollback()
    return db.session.scalars(select(Notification.kind).where(Notification.user_id == user.id)).all()


class TestCollisions:
    def test_blocked_rep_files_from_the_duplicate_screen(self, client_as, world, disputed):
        rep = client_as(world.rep_a2)
        blocked = rep.post("/customers/new", data=new_customer_form(name="宁波海港物流有限公司"))
        assert f"/customers/{disputed.id}/collision" in html_of(blocked)
        form = rep.get(f"/customers/{disputed.id}/collision")
        assert form.status_code == 200 and "13912345678" not in html_of(form)
        response = file(rep, disputed)
        assert response.status_code == 303
        report = db.session.scalar(select(CollisionReport))
        assert (report.reporter_id, report.owner_id, report.team_id, report.status) == (
            world.rep_a2.id,
            world.rep_a.id,
            world.team_a.id,
            "open",
        )
        assert "collision.filed" in kinds(world.manager_a) and "collision.filed" in kinds(world.rep_a)
        assert "collision.filed" not in kinds(world.manager_b)

    def test_refusals(self, client_as, world, disputed):
        assert file(client_as(world.rep_a), disputed).status_code == 422  # the owner
        assert file(client_as(world.rep_a2), disputed, reason="").status_code == 422
        assert file(client_as(world.rep_a2), disputed, reason="x" * 2100).status_code == 422
        assert file(client_as(world.rep_a2), disputed).status_code == 303
        assert file(client_as(world.rep_a2), disputed).status_code == 422  # already waiting
        pooled = make_customer(world.manager_a, "公海客户有限公司", pool=True)
        assert file(client_as(world.rep_b), pooled).status_code == 422

    def test_manager_sees_evidence_side_by_side_and_transfers(self, client_as, world, disputed):
        file(client_as(world.rep_b), disputed)
        report = db.session.scalar(select(CollisionReport))
        manager = client_as(world.manager_a)
        assert "宁波海港物流有限公司" in html_of(manager.get("/collisions"))
        page = html_of(manager.get(f"/collisions/{report.id}"))
        assert "去年展会上就认识周总" in page and "上门拜访周总" in page and "创建了客户" in page
        # Other team's manager: neither list nor decision.
        assert "宁波海港" not in html_of(client_as(world.manager_b).get("/collisions"))
        assert client_as(world.manager_b).get(f"/collisions/{report.id}").status_code == 403
        assert (
            client_as(world.manager_b)
            .post(f"/collisions/{report.id}", data={"decision": "transfer", "note": "x"})
            .status_code
            == 403
        )
        # The reporter may read it, not decide.
        assert client_as(world.rep_b).get(f"/collisions/{report.id}").status_code == 200
        assert (
            client_as(world.rep_b)
            .post(f"/collisions/{report.id}", data={"decision": "transfer", "note": "x"})
            .status_code
            == 403
        )
        assert (
            manager.post(f"/collisions/{report.id}", data={"decision": "transfer", "note": ""}).status_code
            == 422
        )
        response = manager.post(
            f"/collisions/{report.id}", data={"decision": "transfer", "note": "申诉人有更早的拜访记录"}
        )
        assert response.status_code == 303
        assert disputed.owner_id == world.rep_b.id
        last = db.session.scalars(select(OwnershipChange).order_by(OwnershipChange.id.desc())).first()
        assert (last.reason, last.note) == ("arbitration", "申诉人有更早的拜访记录")
        assert report.status == "decided" and report.decision == "transfer"
        assert "collision.decided" in kinds(world.rep_a) and "collision.decided" in kinds(world.rep_b)
        assert (
            manager.post(f"/collisions/{report.id}", data={"decision": "keep", "note": "再议"}).status_code
            == 409
        )

    def test_keep_or_collaborate(self, client_as, world, disputed):
        file(client_as(world.rep_a2), disputed)
        report = db.session.scalar(select(CollisionReport))
        client_as(world.manager_a).post(
            f"/collisions/{report.id}", data={"decision": "collaborate", "note": "一起跟"}
        )
        assert disputed.owner_id == world.rep_a.id
        assert (
            db.session.scalar(select(Collaborator.user_id).where(Collaborator.status == "active"))
            == world.rep_a2.id
        )
        notification = db.session.scalar(
            select(Notification).where(
                Notification.user_id == world.rep_a2.id, Notification.kind == "collision.decided"
            )
        )
        assert notification.message == "「宁波海港物流有限公司」的撞单申诉已裁决：把申诉人加为协作人"

    def test_forged_decision_is_refused(self, client_as, world, disputed):
        file(client_as(world.rep_a2), disputed)
        report = db.session.scalar(select(CollisionReport))
        response = client_as(world.manager_a).post(
            f"/collisions/{report.id}", data={"decision": "delete", "note": "x"}
        )
        assert response.status_code == 422 and report.status == "open"

    def test_blocked_duplicates_per_month(self, client_as, world, disputed):
        for _ in range(2):
            client_as(world.rep_a2).post(
                "/customers/new", data=new_customer_form(name="宁波海港物流有限公司")
            )
        client_as(world.rep_b).post("/customers/new", data=new_customer_form(name="宁波海港物流有限公司"))
        assert collisions.blocked_duplicates_per_month(world.manager_a)[0][1] == 2
        assert collisions.blocked_duplicates_per_month(world.manager_b)[0][1] == 1
        assert collisions.blocked_duplicates_per_month(world.admin)[0][1] == 3


class TestAssignment:
    def test_pool_strategy_by_default(self, client_as, world):
        client_as(world.manager_a).post("/customers/new", data=new_customer_form(owner_id="auto"))
        assert db.session.scalar(select(Customer.owner_id)) is None

    def test_round_robin_is_fair_across_processes(self, client_as, world, make_app):
        assignment.set_strategy(world.admin, world.team_a.id, "round_robin")
        owners = []
        for n in range(5):
            # Each create in a fresh app instance: the cursor lives in the database.
            other = make_app().test_client().login_as(world.manager_a)
            other.post(
                "/customers/new",
                data=new_customer_form(
                    name=f"轮流{n}号有限公司",
                    contact_phone=f"1390000000{n}",
                    contact_email="",
                    owner_id="auto",
                ),
            )
            owners.append(
                db.session.scalar(select(Customer.owner_id).where(Customer.name == f"轮流{n}号有限公司"))
            )
        reps = [world.rep_a.id, world.rep_a2.id]
        assert owners == [reps[0], reps[1], reps[0], reps[1], reps[0]]
        assert "customer.assigned" in kinds(world.rep_a)

    def test_least_loaded(self, world):
        assignment.set_strategy(world.admin, world.team_a.id, "least_loaded")
        for n in range(3):
            make_customer(world.rep_a, f"张三的{n}号有限公司")
        created = customers.create_customer(
            world.manager_a, validation.CustomerInput(name="新线索有限公司"), owner_id=ownership.AUTO
        )
        assert created.owner_id == world.rep_a2.id

    def test_territory_with_fallback_to_the_pool(self, world):
        assignment.set_strategy(world.admin, world.team_a.id, "territory")
        assignment.set_territories(
            world.admin, world.team_a.id, [("浙江", "", world.rep_a.id), ("江苏", "苏州", world.rep_a2.id)]
        )
        zhejiang = customers.create_customer(
            world.manager_a,
            validation.CustomerInput(name="浙江客户有限公司", province="浙江", city="宁波"),
            owner_id=ownership.AUTO,
        )
        suzhou = customers.create_customer(
            world.manager_a,
            validation.CustomerInput(name="苏州客户有限公司", province="江苏", city="苏州"),
            owner_id=ownership.AUTO,
        )
        nanjing = customers.create_customer(
            world.manager_a,
            validation.CustomerInput(name="南京客户有限公司", province="江苏", city="南京"),
            owner_id=ownership.AUTO,
        )
        assert (zhejiang.owner_id, suzhou.owner_id, nanjing.owner_id) == (
            world.rep_a.id,
            world.rep_a2.id,
            None,
        )
        assert db.session.scalar(select(func.count()).select_from(Territory)) == 2

    def test_territories_only_for_the_team_reps(self, world):
        with pytest.raises(DomainError):
            assignment.set_territories(world.admin, world.team_a.id, [("浙江", "", world.rep_b.id)])

    def test_manager_assigns_in_bulk_with_a_reason(self, client_as, world):
        pooled = [make_customer(world.manager_a, f"批量{n}号有限公司", pool=True) for n in range(3)]
        owned = make_customer(world.rep_a, "转移客户有限公司")
        ids = [c.id for c in pooled] + [owned.id]
        manager = client_as(world.manager_a)
        assert (
            manager.post(
                "/customers/assign", data={"customer_ids": ids, "user_id": world.rep_a2.id, "reason": ""}
            ).status_code
            == 422
        )
        response = manager.post(
            "/customers/assign",
            data={"customer_ids": ids, "user_id": world.rep_a2.id, "reason": "平衡团队客户量"},
        )
        assert response.status_code == 303
        db.session.rollback()
        assert {c.owner_id for c in db.session.scalars(select(Customer).where(Customer.id.in_(ids)))} == {
            world.rep_a2.id
        }
        reasons = db.session.scalars(
            select(OwnershipChange.reason).where(
                OwnershipChange.customer_id.in_(ids), OwnershipChange.to_user_id == world.rep_a2.id
            )
        ).all()
        assert sorted(reasons) == ["assign", "assign", "assign", "transfer"]

    def test_assignment_stays_within_the_team(self, client_as, world):
        theirs = make_customer(world.rep_b, "别队客户有限公司")
        mine = make_customer(world.rep_a, "本队客户有限公司")
        manager = client_as(world.manager_a)
        # Someone of another team is not even offered: a forged choice.
        assert (
            manager.post(
                "/customers/assign",
                data={"customer_ids": [mine.id], "user_id": world.rep_b.id, "reason": "x"},
            ).status_code
            == 422
        )
        assert (
            manager.post(
                "/customers/assign",
                data={"customer_ids": [theirs.id, mine.id], "user_id": world.rep_a2.id, "reason": "x"},
            ).status_code
            == 403
        )
        assert theirs.owner_id == world.rep_b.id and mine.owner_id == world.rep_a.id  # all or nothing
        assert (
            client_as(world.rep_a)
            .post(
                "/customers/assign",
                data={"customer_ids": [mine.id], "user_id": world.rep_a2.id, "reason": "x"},
            )
            .status_code
            == 403
        )
        assert (
            manager.post(
                "/customers/assign", data={"customer_ids": ["abc"], "user_id": world.rep_a2.id, "reason": "x"}
            ).status_code
            == 422
        )
        assert (
            manager.post(
                "/customers/assign",
                data={"customer_ids": [999999], "user_id": world.rep_a2.id, "reason": "x"},
            ).status_code
            == 404
        )
        admin = client_as(world.admin)
        assert (
            admin.post(
                "/customers/assign",
                data={"customer_ids": [theirs.id], "user_id": world.rep_a.id, "reason": "跨团队调整"},
            ).status_code
            == 303
        )

    def test_imports_without_owner_follow_the_strategy(self, client_as, world):
        import io

        from werkzeug.datastructures import FileStorage
        from werkzeug.test import encode_multipart

        from salesdesk.ledger import importer

        assignment.set_strategy(world.admin, world.team_a.id, "round_robin")
        manager = client_as(world.manager_a)
        data = "客户名称\n甲有限公司\n乙有限公司\n丙有限公司\n".encode()
        boundary, body = encode_multipart(
            {"file": FileStorage(io.BytesIO(data), filename="x.csv"), "csrf_token": manager.csrf_token()}
        )
        response = manager.post(
            "/customers/import",
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
            csrf=False,
        )
        job_id = int(response.headers["Location"].split("/")[3])
        manager.post(f"/customers/import/{job_id}/mapping", data={"map-name": "0"})
        importer.THREADS[job_id].join(30)
        manager.post(f"/customers/import/{job_id}/commit")
        importer.THREADS[job_id].join(30)
        db.session.rollback()
        owners = db.session.scalars(select(Customer.owner_id).order_by(Customer.id)).all()
        assert owners == [world.rep_a.id, world.rep_a2.id, world.rep_a.id]


class TestDeactivation:
    def test_customers_go_to_the_successor(self, client_as, world):
        customers = [make_customer(world.rep_a, f"交接{n}号有限公司") for n in range(3)]
        won = make_customer(world.rep_a, "已赢单客户有限公司", stage="won")
        response = client_as(world.admin).post(
            f"/admin/users/{world.rep_a.id}/deactivate", data={"successor_id": world.rep_a2.id}
        )
        assert response.status_code == 303
        db.session.rollback()
        ids = [c.id for c in customers] + [won.id]
        assert {c.owner_id for c in db.session.scalars(select(Customer).where(Customer.id.in_(ids)))} == {
            world.rep_a2.id
        }
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(OwnershipChange)
                .where(OwnershipChange.reason == "user_deactivated")
            )
            == 4
        )

    def test_or_to_the_pool(self, client_as, world):
        customer = make_customer(world.rep_b, "回公海有限公司")
        client_as(world.admin).post(f"/admin/users/{world.rep_b.id}/deactivate", data={"successor_id": ""})
        assert customer.owner_id is None
        assert (
            db.session.scalar(
                select(func.count()).select_from(Customer).where(Customer.owner_id == world.rep_b.id)
            )
            == 0
        )

    def test_a_bad_successor_changes_nothing(self, client_as, world):
        customer = make_customer(world.rep_a, "不变有限公司")
        inactive = make_user("gone@test.example", "rep", world.team_a)
        client_as(world.admin).post(f"/admin/users/{inactive.id}/deactivate")
        for successor in (world.rep_a.id, inactive.id, world.support_a.id, 999999):
            response = client_as(world.admin).post(
                f"/admin/users/{world.rep_a.id}/deactivate", data={"successor_id": successor}
            )
            assert response.status_code in (400, 422)
        assert world.rep_a.active and customer.owner_id == world.rep_a.id


def test_ownership_report_for_admins(client_as, world, disputed):
    assert client_as(world.manager_a).get("/rules/ownership").status_code == 403
    html = html_of(client_as(world.admin).get("/rules/ownership?reason=create"))
    assert "创建了客户" in html and f"#{disputed.id}" in html
    fragment = html_of(client_as(world.admin).get("/rules/ownership?reason=claim", htmx=True))
    assert "<html" not in fragment and "没有符合条件的记录" in fragment


def test_ownership_history_cannot_be_edited_in_the_database(world, disputed):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    for statement in ("UPDATE ownership_changes SET reason = 'claim'", "DELETE FROM ownership_changes"):
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OwnershipChange)) == 1
