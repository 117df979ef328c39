"""Making customers for tests, through the same services the pages use."""

from salesdesk.ledger import services


def make_customer(actor, name, *, phone=None, email=None, owner=None, pool=False, stage="lead", **fields):
    contacts = []
    if phone or email:
        contacts = [
            services.ContactInput(
                name="王总", title="总经理", phones=[phone] if phone else [], email=email or ""
            )
        ]
    owner_id = None if pool else (owner.id if owner else actor.id)
    return services.create_customer(
        actor,
        services.CustomerInput(name=name, stage=stage, contacts=contacts, **fields),
        owner_id=owner_id,
        confirm_similar=True,
    )


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
