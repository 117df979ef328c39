"""A custom field's definition. Values live in a JSON column of the record they belong
to (customers.custom, contacts.custom), keyed by the field's key: see values.py."""

from datetime import datetime
from enum import StrEnum

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..database import UTCDateTime
from ..extensions import db


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    YES_NO = "yes_no"
    USER = "user"


TYPE_LABELS = {
    FieldType.TEXT: _l("Single-line text"),
    FieldType.LONG_TEXT: _l("Long text"),
    FieldType.NUMBER: _l("Number"),
    FieldType.MONEY: _l("Money (CNY)"),
    FieldType.DATE: _l("Date"),
    FieldType.SINGLE_CHOICE: _l("Single choice"),
    FieldType.MULTIPLE_CHOICE: _l("Multiple choice"),
    FieldType.YES_NO: _l("Yes / no"),
    FieldType.USER: _l("A user"),
}
CHOICE_TYPES = (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE)
# Types a list can sort and filter by through one expression index each (sql.py); a
# multiple choice filters through its JSON array, long text is not listed.
INDEXED_TYPES = (
    FieldType.TEXT,
    FieldType.NUMBER,
    FieldType.MONEY,
    FieldType.DATE,
    FieldType.SINGLE_CHOICE,
    FieldType.YES_NO,
    FieldType.USER,
)
# Types whose values can be unique (a code, a number): the others repeat by nature.
UNIQUE_TYPES = (FieldType.TEXT, FieldType.NUMBER)

RULE_LABELS = {
    "required": _l("Required field"),
    "unique": _l("Unique"),
    "sensitive": _l("Sensitive"),
    "searchable": _l("Searchable"),
}
ENTITY_LABELS = {"customer": _l("Customer"), "contact": _l("Contact")}


class CustomField(db.Model):
    __tablename__ = "custom_fields"
    __table_args__ = (
        UniqueConstraint("entity", "key"),
        CheckConstraint("entity IN ('customer', 'contact')", name="entity_known"),
        CheckConstraint(
            "type IN (" + ", ".join(f"'{kind.value}'" for kind in FieldType) + ")", name="type_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(16))
    # Made once from the label (pinyin), never changed: the values' key in the JSON
    # column and the name of its index, so only [a-z0-9_].
    key: Mapped[str] = mapped_column(String(40))
    label_zh: Mapped[str] = mapped_column(String(60))
    label_en: Mapped[str] = mapped_column(String(60), default="")
    type: Mapped[str] = mapped_column(String(20))
    required: Mapped[bool] = mapped_column(default=False)
    help_text: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(default=0)
    unique: Mapped[bool] = mapped_column(default=False)
    sensitive: Mapped[bool] = mapped_column(default=False)
    # Text fields the list's search box also looks in.
    searchable: Mapped[bool] = mapped_column(default=False)
    # [{"key": "c1", "zh": "…", "en": "…", "retired": false}] in their order; values
    # keep the choice's key, so a renamed choice renames every value at once.
    choices: Mapped[list] = mapped_column(JSON, default=list)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Bumped by every change of the definition; a change made against an older one is refused.
    version: Mapped[int] = mapped_column(default=1)

    created_by = relationship("User")

    def __repr__(self):
        return f"<CustomField {self.entity}.{self.key}>"

    @property
    def label(self):
        """The label in the reader's language; Chinese when there is no English one."""
        if self.label_en and str(get_locale() or "zh").startswith("en"):
            return self.label_en
        return self.label_zh

    @property
    def entity_label(self):
        return ENTITY_LABELS[self.entity]

    @property
    def type_label(self):
        return TYPE_LABELS[FieldType(self.type)]

    @property
    def rule_labels(self):
        """Required, unique, sensitive, searchable: the ones that hold, in words."""
        return [str(label) for name, label in RULE_LABELS.items() if getattr(self, name)]

    @property
    def active(self):
        return self.retired_at is None

    @property
    def form_name(self):
        """The name of its input in a form: custom_<key>, beside the built-in fields."""
        return f"custom_{self.key}"

    def choice_label(self, key):
        for choice in self.choices:
            if choice["key"] == key:
                if choice.get("en") and str(get_locale() or "zh").startswith("en"):
                    return choice["en"]
                return choice["zh"]
        return key

    @property
    def open_choices(self):
        """The choices a form offers: not retired, in their order."""
        return [choice for choice in self.choices if not choice.get("retired")]
