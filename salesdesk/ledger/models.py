"""The shared customer ledger: customers, contacts, follow-ups, collaborators and the
histories that make up a customer's timeline."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..database import CustomValues, Money, UTCDateTime
from ..extensions import db


class Stage(StrEnum):
    LEAD = "lead"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    QUOTED = "quoted"
    NEGOTIATING = "negotiating"
    WON = "won"
    LOST = "lost"

    @property
    def label(self):
        return STAGE_LABELS[self]

    @property
    def is_closed(self):
        return self in (Stage.WON, Stage.LOST)


STAGE_LABELS = {
    Stage.LEAD: _l("Lead"),
    Stage.CONTACTED: _l("Contacted"),
    Stage.QUALIFIED: _l("Qualified"),
    Stage.QUOTED: _l("Quoted"),
    Stage.NEGOTIATING: _l("Negotiating"),
    Stage.WON: _l("Won"),
    Stage.LOST: _l("Lost"),
}
OPEN_STAGES = [stage for stage in Stage if not stage.is_closed]
# The tone of a stage's badge wherever it shows (the list, the customer page, the workbench).
STAGE_TONES = {Stage.WON: "ok", Stage.LOST: "muted", Stage.NEGOTIATING: "warn", Stage.QUOTED: "warn"}

SOURCE_LABELS = {
    "website": _l("Website"),
    "exhibition": _l("Trade fair"),
    "referral": _l("Referral"),
    "cold_call": _l("Cold call"),
    "advertising": _l("Advertising"),
    "other": _l("Other"),
}
GRADES = ("A", "B", "C", "D")
CHANNEL_LABELS = {
    "phone": _l("Phone"),
    "wechat": _l("WeChat"),
    "visit": _l("Visit"),
    "email": _l("Mail"),
    "meeting": _l("Meeting"),
}
KIND_LABELS = {"company": _l("Company"), "person": _l("Person")}
OWNERSHIP_REASONS = {
    "create": _l("created it"),
    "import": _l("imported it"),
    "claim": _l("claimed it from the pool"),
    "release": _l("released it to the pool"),
    "reclaim_no_follow_up": _l("returned to the pool: no follow-up in time"),
    "reclaim_no_deal": _l("returned to the pool: not won in time"),
    "assign": _l("assigned it"),
    "transfer": _l("transferred it"),
    "arbitration": _l("decided a collision report"),
    "user_deactivated": _l("handed over from a deactivated user"),
}
COLLABORATOR_ACTIONS = {
    "added": _l("added %(user)s as collaborator"),
    "requested": _l("asked to collaborate"),
    "approved": _l("accepted %(user)s as collaborator"),
    "declined": _l("declined the request of %(user)s"),
    "removed": _l("removed collaborator %(user)s"),
    "left": _l("stopped collaborating"),
}


LISTED = "deleted_at IS NULL"
WON_AND_LISTED = f"stage = 'won' AND {LISTED}"


def _listed(name, *columns, where=LISTED):
    """A partial index over the rows outside the trash (or those `where` says)."""
    return Index(name, *columns, sqlite_where=text(where), postgresql_where=text(where))


def _in(column, values):
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_known")


class Customer(db.Model):
    __tablename__ = "customers"
    __table_args__ = (
        _in("kind", KIND_LABELS),
        _in("stage", [stage.value for stage in Stage]),
        _in("source", SOURCE_LABELS),
        _in("grade", GRADES),
        CheckConstraint("expected_amount >= 0", name="amount_not_negative"),
        # One index per list sort and filter; the trailing id keeps pages stable. Only
        # rows outside the trash, which every list and count asks for.
        _listed("ix_customers_updated", "updated_at", "id"),
        _listed("ix_customers_created", "created_at", "id"),
        _listed("ix_customers_sort_name", "sort_name", "id"),
        _listed("ix_customers_owner_stage", "owner_id", "stage"),
        # The pipeline (per team and for the company) straight from the index.
        _listed("ix_customers_team_stage", "team_id", "stage", "owner_id", "expected_amount"),
        _listed("ix_customers_stage_owner", "stage", "owner_id", "expected_amount"),
        _listed("ix_customers_stage_updated", "stage", "updated_at"),
        # Won amount by month (the manager's home), straight from the index.
        _listed("ix_customers_won", "won_at", "team_id", "expected_amount", where=WON_AND_LISTED),
        _listed("ix_customers_grade", "grade", "id"),
        _listed("ix_customers_source", "source", "id"),
        _listed("ix_customers_region", "province", "city"),
        _listed("ix_customers_next_follow_up", "next_follow_up_on", "id"),
        _listed("ix_customers_last_follow_up", "last_follow_up_at", "id"),
        _listed("ix_customers_amount", "expected_amount", "id"),
        _listed("ix_customers_reclaim", "reclaim_at", "id"),
        # The workbench: a team's due follow-ups per owner.
        _listed("ix_customers_team_follow_up", "team_id", "next_follow_up_on", "owner_id", "source"),
        _listed("ix_customers_owner_follow_up", "owner_id", "next_follow_up_on"),
        _listed("ix_customers_trash", "deleted_at", where="deleted_at IS NOT NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="company")
    name: Mapped[str] = mapped_column(String(200))
    # Duplicate keys: normalised, unique (trashed customers included, so a restore
    # can never create a duplicate). People have no name key: names repeat.
    name_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    industry: Mapped[str] = mapped_column(String(50), default="")
    province: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(30), default="")
    source: Mapped[str] = mapped_column(String(16), default="other")
    grade: Mapped[str] = mapped_column(String(1), default="C")
    stage: Mapped[str] = mapped_column(String(16), default=Stage.LEAD)
    expected_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    # No owner: the customer is in the public pool.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    owned_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the customer returns to the pool unless followed up or won, and which
    # rule will fire (kept up to date by the rules; None in the pool and once won).
    reclaim_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reclaim_rule: Mapped[str | None] = mapped_column(String(24))
    # The server default is the one the rules migration added the column with (for
    # rows that existed then); dropping it would rebuild customers on SQLite.
    extension_days: Mapped[int] = mapped_column(default=0, server_default="0")
    # The reclaim date the owner was last warned about (warn once per date).
    reclaim_warned_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_follow_up_on: Mapped[date | None] = mapped_column(Date)
    # When the customer was won (成交日期); None while not won.
    won_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Custom fields' values by field key (fields/values.py); JSONB on PostgreSQL, with
    # an expression index per listed field made when the field is added (fields/sql.py).
    custom: Mapped[dict | None] = mapped_column(CustomValues)
    # Pinyin of the name, so lists sort the way Chinese readers expect.
    sort_name: Mapped[str] = mapped_column(String(400), default="")
    # Space-separated search tokens (character bigrams, pinyin, initials), indexed by
    # FTS5 on SQLite and a GIN tsvector index on PostgreSQL (see migrations).
    search_tokens: Mapped[str] = mapped_column(Text, default="")
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Bumped by every edit of the customer's own fields; an edit made against an
    # older version is refused (optimistic locking).
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    owner = relationship("User", foreign_keys=[owner_id])
    team = relationship("Team")
    created_by = relationship("User", foreign_keys=[created_by_id])
    contacts: Mapped[list["Contact"]] = relationship(
        back_populates="customer", order_by="Contact.id", cascade="all, delete-orphan"
    )
    tags: Mapped[list["CustomerTag"]] = relationship(order_by="CustomerTag.tag", cascade="all, delete-orphan")

    def __repr__(self):
        return f"<Customer {self.id} {self.name}>"

    @hybrid_property
    def in_pool(self):
        """In the public pool (公海): nobody owns it. The same rule in Python and SQL."""
        return self.owner_id is None

    @in_pool.inplace.expression
    @classmethod
    def _in_pool_expression(cls):
        return cls.owner_id.is_(None)

    @property
    def stage_enum(self):
        return Stage(self.stage)

    @property
    def stage_label(self):
        return self.stage_enum.label

    @property
    def stage_tone(self):
        return STAGE_TONES.get(self.stage, "info")

    @property
    def source_label(self):
        return SOURCE_LABELS[self.source]

    @property
    def tag_names(self):
        return [tag.tag for tag in self.tags]

    @property
    def region(self):
        return " ".join(part for part in (self.province, self.city) if part)


class CustomerTag(db.Model):
    __tablename__ = "customer_tags"
    __table_args__ = (Index("ix_customer_tags_tag", "tag", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(30), primary_key=True)


class Contact(db.Model):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(50), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    email_key: Mapped[str | None] = mapped_column(String(254), unique=True)
    wechat: Mapped[str] = mapped_column(String(64), default="")
    custom: Mapped[dict | None] = mapped_column(CustomValues)
    # Phone digits and e-mail for substring search (trigram index, see migrations).
    search_text: Mapped[str] = mapped_column(Text, default="")
    # The name's search tokens (search.contact_name_tokens; full-text index, see migrations).
    name_tokens: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Bumped on every save; a save from an older version is refused, as for customers.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    customer: Mapped[Customer] = relationship(back_populates="contacts")
    phones: Mapped[list["ContactPhone"]] = relationship(
        back_populates="contact", order_by="ContactPhone.id", cascade="all, delete-orphan"
    )


class ContactPhone(db.Model):
    __tablename__ = "contact_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    # Digits only, country prefix stripped: unique across the ledger.
    key: Mapped[str] = mapped_column(String(20), unique=True)

    contact: Mapped[Contact] = relationship(back_populates="phones")


class FollowUp(db.Model):
    __tablename__ = "follow_ups"
    __table_args__ = (
        _in("channel", CHANNEL_LABELS),
        Index("ix_follow_ups_customer_at", "customer_id", "occurred_at"),
        # A person's follow-ups in a period, counted by channel and customers touched (the
        # performance board) from the index alone, without reading the table.
        Index(
            "ix_follow_ups_author_at_channel_previous", "author_id", "occurred_at", "channel", "previous_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_step: Mapped[str] = mapped_column(String(500), default="")
    next_follow_up_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # When the same author last followed up the same customer before this one (None: the
    # first time). The customers a person touched in a period are then their follow-ups
    # there whose previous one is older than the period: a count, not a DISTINCT over
    # every follow-up (ledger.followups keeps it).
    previous_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author = relationship("User")

    @property
    def channel_label(self):
        return CHANNEL_LABELS[self.channel]


class CollaboratorStatus(StrEnum):
    REQUESTED = "requested"
    ACTIVE = "active"


class Collaborator(db.Model):
    __tablename__ = "collaborators"
    __table_args__ = (
        UniqueConstraint("customer_id", "user_id"),
        Index("ix_collaborators_user_status", "user_id", "status"),
        _in("status", [status.value for status in CollaboratorStatus]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user = relationship("User")
    customer = relationship("Customer")


class CollaboratorEvent(db.Model):
    """Who joined, asked, was approved, declined or removed: part of the timeline."""

    __tablename__ = "collaborator_events"
    __table_args__ = (Index("ix_collaborator_events_customer_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user = relationship("User", foreign_keys=[user_id])
    actor = relationship("User", foreign_keys=[actor_id])

    @property
    def description(self):
        return str(COLLABORATOR_ACTIONS[self.action]) % {"user": self.user.display_name}


class StageChange(db.Model):
    __tablename__ = "stage_changes"
    __table_args__ = (
        Index("ix_stage_changes_customer_at", "customer_id", "at"),
        # Wins and losses of a period per person (targets and the performance board), and
        # the board's funnel (the stage left and when it was entered) from the index alone.
        Index(
            "ix_stage_changes_to_at_covering",
            "to_stage",
            "at",
            "owner_id",
            "customer_id",
            "from_stage",
            "entered_at",
        ),
        # The same for one team's people: its funnel reads their changes alone.
        Index(
            "ix_stage_changes_owner_at_covering",
            "owner_id",
            "at",
            "to_stage",
            "customer_id",
            "from_stage",
            "entered_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who owned the customer at that moment: a won deal is credited to them, whoever
    # owns the customer later.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # When the customer entered from_stage (the previous change's moment; None for the
    # first): the funnel's days in a stage, without looking the previous change up.
    entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor = relationship("User", foreign_keys=[actor_id])


class OwnershipChange(db.Model):
    """Every change of owner, from creation on. Append-only: database triggers refuse
    UPDATE and DELETE (see migrations)."""

    __tablename__ = "ownership_changes"
    __table_args__ = (
        Index("ix_ownership_changes_customer_at", "customer_id", "at"),
        # The people and the customer too: the performance board counts claims, reclaims
        # and new customers per person from the index alone.
        Index(
            "ix_ownership_changes_reason_at_people",
            "reason",
            "at",
            "to_user_id",
            "from_user_id",
            "customer_id",
        ),
        Index("ix_ownership_changes_from_at", "from_user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    note: Mapped[str] = mapped_column(String(500), default="")

    from_user = relationship("User", foreign_keys=[from_user_id])
    to_user = relationship("User", foreign_keys=[to_user_id])
    actor = relationship("User", foreign_keys=[actor_id])

    @property
    def reason_label(self):
        return OWNERSHIP_REASONS.get(self.reason, self.reason)


class ImportJob(db.Model):
    """One upload through reading, mapping, preview and commit. The file stays in
    instance/imports until the commit, a failed read, or IMPORT_KEEP_HOURS."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_as: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="uploaded")
    headers: Mapped[list] = mapped_column(JSON, default=list)
    # The first data rows, shown beside the mapping (the file is read once, in the
    # background); None for jobs from before it was kept.
    samples: Mapped[list | None] = mapped_column(JSON, default=list)
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")


class ImportRow(db.Model):
    """The dry-run verdict on one row of an import."""

    __tablename__ = "import_rows"
    __table_args__ = (Index("ix_import_rows_job_status", "job_id", "status", "row_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    row_number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(String(500), default="")
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    duplicate_of_row: Mapped[int | None]
