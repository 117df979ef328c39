"""Making customers for tests, through the same services the pages use."""

from salesdesk.database import write_transaction
from salesdesk.ledger.customers import create_customer
from salesdesk.ledger.models import Collaborator, CollaboratorStatus
from salesdesk.ledger.trash import delete_customer
from salesdesk.ledger.validation import ContactInput, CustomerInput


def make_customer(
    actor,
    name="苏州恒达精密机械有限公司",
    *,
    phone=None,
    email=None,
    owner=None,
    pool=False,
    stage="lead",
    collaborators=(),
    requested=(),
    deleted=False,
    **fields,
):
    """A customer created by `actor` through the ledger's create service, so its keys,
    search columns and history are what a page would have written. It belongs to
    `owner` (default: the actor), or to the pool with pool=True (both chosen only by
    managers and admins; a rep owns what they create). `collaborators` and `requested`
    are written as collaboration rows, since the services would also notify each of
    them; deleted=True moves it to the trash, which `actor` must be allowed to do."""
    contacts = []
    if phone or email:
        contacts = [
            ContactInput(name="王总", title="总经理", phones=[phone] if phone else [], email=email or "")
        ]
    owner_id = None if pool else (owner.id if owner else actor.id)
    customer = create_customer(
        actor,
        CustomerInput(name=name, stage=stage, contacts=contacts, **fields),
        owner_id=owner_id,
        confirm_similar=True,
    )
    if collaborators or requested:
        with write_transaction() as session:
            for users, status in (
                (collaborators, CollaboratorStatus.ACTIVE),
                (requested, CollaboratorStatus.REQUESTED),
            ):
                for user in users:
                    session.add(Collaborator(customer_id=customer.id, user_id=user.id, status=status))
    if deleted:
        delete_customer(actor, customer.id)
    return customer


def follow_up_form(**overrides):
    """What the customer page's follow-up form posts; `when` and the next step left empty."""
    return {
        "channel": "phone",
        "content": "电话沟通了报价",
        "occurred_at": "",
        "next_step": "",
        "next_follow_up_on": "",
        **overrides,
    }


def quick_follow_up_form(**overrides):
    """What the workbench's one-click follow-up posts (it has no `when` nor next step)."""
    return {"channel": "phone", "content": "电话沟通了报价", "next_follow_up_on": "", **overrides}


def contact_form(**fields):
    """What the contact form posts: every field, empty unless given."""
    return {**dict.fromkeys(("name", "title", "phone", "phone2", "email", "wechat"), ""), **fields}


def new_customer_form(**overrides):
    """The fields of the new-customer form, filled in."""
    return {
        "kind": "company",
        "name": "杭州云栖数据科技有限公司",
        "credit_code": "",
        "industry": "软件和信息技术",
        "province": "浙江",
        "city": "杭州",
        "source": "website",
        "grade": "B",
        "stage": "lead",
        "expected_amount": "88000.50",
        "tags": "重点客户, 华东",
        "next_follow_up_on": "",
        "notes": "",
        "owner_id": "pool",
        "contact_name": "陈经理",
        "contact_title": "采购经理",
        "contact_phone": "13911112222",
        "contact_phone2": "",
        "contact_email": "chen@yunqi.example",
        "contact_wechat": "chen_yq",
        **overrides,
    }
