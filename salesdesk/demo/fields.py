"""The demo's custom fields: what a small sales team adds first (the company's size and
IT budget, when the contract ends, which products interest it, whether an NDA is signed,
the decision maker's mobile, sensitive; a contact's part in the decision and birthday),
filled on about 60 % of the customers and half their contacts as the
values a team brings from its spreadsheet: checked by the fields' own rules, written
without a timeline entry or a new "last updated" (the demo's history stays its
stories'). Does nothing once fields exist."""

import random

from sqlalchemy import select

from ..auth.models import Role, User
from ..database import write_transaction
from ..extensions import db
from ..fields import definitions, values
from ..fields.definitions import Values
from ..ledger.models import Customer
from .company import email

SEED = 20261206
FILLED = 0.6
SIZES = ["50人以下", "50-200人", "200-1000人", "1000人以上"]
PRODUCTS = ["CRM", "ERP", "OA", "数据分析"]
ROLES = ["拍板人", "影响者", "使用者", "把关人"]


def _choices(labels):
    return [("", label, "", False) for label in labels]


FIELDS = (
    Values(
        label_zh="员工规模",
        label_en="Headcount",
        key="headcount",
        type="single_choice",
        choices=_choices(SIZES),
    ),
    Values(label_zh="年度IT预算", label_en="Yearly IT budget", key="it_budget", type="money"),
    Values(label_zh="合同到期日", label_en="Contract ends", key="contract_ends", type="date"),
    Values(
        label_zh="关注产品",
        label_en="Products of interest",
        key="products",
        type="multiple_choice",
        choices=_choices(PRODUCTS),
    ),
    Values(label_zh="已签保密协议", label_en="NDA signed", key="nda", type="yes_no"),
    Values(
        label_zh="决策人手机",
        label_en="Decision maker's mobile",
        key="decider_mobile",
        type="text",
        sensitive=True,
        unique=True,
        help_text="拍板的人的手机号，只有负责人和经理能看到",
    ),
    Values(
        label_zh="决策角色",
        label_en="Part in the decision",
        key="decision_role",
        type="single_choice",
        entity="contact",
        choices=_choices(ROLES),
    ),
    Values(label_zh="生日", label_en="Birthday", key="birthday", type="date", entity="contact"),
)


def seed():
    admin = db.session.scalar(select(User).where(User.email == email("qian.li"), User.role == Role.ADMIN))
    if admin is None or definitions.all_fields():
        return
    for field in FIELDS:
        definitions.create_field(admin, field)
    rng = random.Random(SEED)
    with write_transaction():
        customers = db.session.scalars(
            select(Customer).where(Customer.deleted_at.is_(None)).order_by(Customer.id)
        )
        for number, customer in enumerate(customers):
            if rng.random() <= FILLED:
                customer.custom = values.merged(None, values.prepare("customer", _typed(rng, number)))
            for contact in customer.contacts:
                if rng.random() <= FILLED:
                    contact.custom = values.merged(None, values.prepare("contact", _contact_typed(rng)))


def _typed(rng, number):
    """What a seller would have typed for one customer."""
    return {
        "headcount": rng.choice(SIZES),
        "it_budget": f"{rng.choice([5, 8, 12, 20, 35, 60, 120])}万" if rng.random() < 0.7 else "",
        "contract_ends": f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if rng.random() < 0.5
        else "",
        "products": rng.sample(PRODUCTS, rng.randint(1, 2)),
        "nda": rng.choice(["是", "否"]) if rng.random() < 0.6 else "",
        "decider_mobile": f"139{number:08d}" if rng.random() < 0.4 else "",
    }


def _contact_typed(rng):
    return {
        "decision_role": rng.choice(ROLES),
        "birthday": f"{rng.randint(1965, 1995)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if rng.random() < 0.3
        else "",
    }
