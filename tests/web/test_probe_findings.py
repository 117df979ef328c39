"""Found beyond the hardening issue's list, by a second probe: nobody decides a request
they are a party to, a pool customer has no collaborators, reps import customers for
themselves only, and readers see only an article's current revision."""

from datetime import UTC, datetime

from sqlalchemy import select

from salesdesk.extensions import db
from salesdesk.kb.models import Proposal
from salesdesk.ledger import collaborators, import_rows
from salesdesk.ledger.models import Collaborator, Customer, FollowUp
from salesdesk.notifications import Notification
from salesdesk.rules.models import CollisionReport, Extension
from tests.fixtures.kb import edit, write
from tests.fixtures.ledger import make_customer

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def kinds(user):
    db.session.rollback()
    return db.session.scalars(select(Notification.kind).where(Notification.user_id == user.id)).all()


def test_a_manager_does_not_grant_their_own_extension(client_as, world, frozen_clock):
    frozen_clock(T0)
    owned = make_customer(world.manager_a, "温州瓯江阀门有限公司")
    manager = client_as(world.manager_a)
    asked = {"days": "30", "reason": "客户预算下月审批"}
    assert manager.post(f"/customers/{owned.id}/extension", data=asked).status_code == 303
    extension = db.session.scalar(select(Extension))
    page = manager.get(f"/customers/{owned.id}").get_data(as_text=True)
    assert f"/extensions/{extension.id}/grant" not in page
    assert f"/extensions/{extension.id}/grant" not in manager.get("/collisions").get_data(as_text=True)
    grant = {"days": "30", "note": "同意"}
    assert manager.post(f"/extensions/{extension.id}/grant", data=grant).status_code == 403
    db.session.refresh(owned)
    assert owned.extension_days == 0
    # The request goes to an administrator, who may decide it.
    assert "extension.requested" in kinds(world.admin)
    assert "extension.requested" not in kinds(world.manager_a)
    admin = client_as(world.admin)
    assert f"/extensions/{extension.id}/grant" in admin.get(f"/customers/{owned.id}").get_data(as_text=True)
    assert admin.post(f"/extensions/{extension.id}/grant", data=grant).status_code == 303
    db.session.refresh(owned)
    assert owned.extension_days == 30


def test_a_manager_does_not_decide_a_collision_report_they_filed(client_as, world):
    customer = make_customer(world.rep_a, "宁波海港物流有限公司")
    manager = client_as(world.manager_a)
    filed = manager.post(f"/customers/{customer.id}/collision", data={"reason": "去年就认识周总"})
    assert filed.status_code == 303
    report = db.session.scalar(select(CollisionReport))
    assert 'name="decision"' not in manager.get(f"/collisions/{report.id}").get_data(as_text=True)
    decision = {"decision": "transfer", "note": "归我"}
    assert manager.post(f"/collisions/{report.id}", data=decision).status_code == 403
    db.session.refresh(customer)
    assert customer.owner_id == world.rep_a.id and report.status == "open"
    assert "collision.filed" in kinds(world.admin)
    admin = client_as(world.admin)
    decision = {"decision": "keep", "note": "仍归张三"}
    assert admin.post(f"/collisions/{report.id}", data=decision).status_code == 303


def test_a_manager_does_not_decide_a_report_about_their_own_customer(client_as, world):
    customer = make_customer(world.manager_a, "宁波海港物流有限公司")
    rep = client_as(world.rep_a)
    assert rep.post(f"/customers/{customer.id}/collision", data={"reason": "我先联系的"}).status_code == 303
    report = db.session.scalar(select(CollisionReport))
    decision = {"decision": "keep", "note": "归我"}
    assert client_as(world.manager_a).post(f"/collisions/{report.id}", data=decision).status_code == 403
    assert client_as(world.admin).post(f"/collisions/{report.id}", data=decision).status_code == 303


def test_an_owner_deactivated_to_the_pool_leaves_no_collaborators_behind(client_as, world):
    customer = make_customer(world.rep_a, "杭州西湖茶业有限公司", phone="13811112222")
    collaborators.add_collaborator(world.rep_a, customer.id, world.rep_a2.id)
    collaborator = client_as(world.rep_a2)
    assert "13811112222" in collaborator.get(f"/customers/{customer.id}").get_data(as_text=True)
    deactivated = client_as(world.admin).post(
        f"/admin/users/{world.rep_a.id}/deactivate", data={"successor_id": ""}
    )
    assert deactivated.status_code == 303
    assert db.session.scalars(select(Collaborator)).all() == []
    assert "13811112222" not in collaborator.get(f"/customers/{customer.id}").get_data(as_text=True)
    # Whoever claims it next starts without them.
    assert client_as(world.rep_b).post(f"/customers/{customer.id}/claim").status_code == 303
    follow_up = {"channel": "phone", "content": "还在跟"} | dict.fromkeys(
        ("occurred_at", "next_step", "next_follow_up_on"), ""
    )
    assert collaborator.post(f"/customers/{customer.id}/follow-ups", data=follow_up).status_code == 403
    assert db.session.scalars(select(FollowUp)).all() == []


def test_a_pool_customer_is_masked_to_a_collaborator_left_over_from_before(client_as, world):
    customer = make_customer(world.rep_a, "杭州西湖茶业有限公司", phone="13811112222")
    db.session.add(Collaborator(customer_id=customer.id, user_id=world.rep_a2.id, status="active"))
    db.session.get(Customer, customer.id).owner_id = None
    db.session.commit()
    page = client_as(world.rep_a2).get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "13811112222" not in page and "138****2222" in page


def test_a_rep_imports_customers_for_themselves_only(app, world):
    rows = [["客户名称", "负责人"], ["绍兴黄酒贸易有限公司", "李四"], ["嘉兴粽子食品有限公司", "张三"]]
    mapping = {"name": 0, "owner": 1}
    verdicts = import_rows.classify(world.rep_a, rows, mapping)
    assert [verdict.status for verdict in verdicts] == ["invalid", "new"]
    assert "李四" in verdicts[0].message and verdicts[1].owner.id == world.rep_a.id
    managed = import_rows.classify(world.manager_a, rows, mapping)
    assert [verdict.owner.id for verdict in managed] == [world.rep_a2.id, world.rep_a.id]


def test_a_reader_cannot_see_an_old_revision_through_a_proposal(client_as, world):
    """Found by the hardening probe: a rep proposed an edit based on revision 1, and the
    proposal page showed the text that revision 2 had removed."""
    article = write(world.manager_a, "折扣审批", "5% 以内销售自己决定。")
    edit(article, world.manager_a, body="所有折扣都需经理审批。")
    rep = client_as(world.rep_a)
    old_base = {"title": "折扣审批", "body": "我的建议", "note": "", "base_version": "1"}
    refused = rep.post(f"/kb/{article.id}/propose", data=old_base)
    assert refused.status_code == 422 and "5% 以内" not in refused.get_data(as_text=True)
    assert db.session.scalars(select(Proposal)).all() == []
    current = {**old_base, "base_version": "2"}
    assert rep.post(f"/kb/{article.id}/propose", data=current).status_code == 303


def test_a_stale_contact_edit_is_refused_with_the_current_values(client_as, world):
    """Found by the hardening probe: the owner's new title was silently reverted when the
    manager saved the same contact from a page opened before."""
    customer = make_customer(world.rep_a, "苏州恒达精密机械有限公司", phone="13911112222")
    contact = customer.contacts[0]
    fields = {"name": contact.name, "phone": "13911112222"} | dict.fromkeys(
        ("title", "phone2", "email", "wechat"), ""
    )
    url = f"/customers/{customer.id}/contacts/{contact.id}/edit"
    owner, manager = client_as(world.rep_a), client_as(world.manager_a)
    assert 'name="version" type="hidden" value="1"' in manager.get(url).get_data(as_text=True)
    assert owner.post(url, data={**fields, "title": "总经理", "version": "1"}).status_code == 303
    stale = manager.post(url, data={**fields, "wechat": "manager-wechat", "version": "1"})
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "其他人已保存了这位联系人" in page and 'value="总经理"' in page
    db.session.refresh(contact)
    assert (contact.title, contact.wechat, contact.version) == ("总经理", "", 2)
