"""ledger: keys and names without characters that change nothing on screen

Duplicate keys now drop invisible characters and the combining marks NFKC leaves alone,
and read every decimal digit as ASCII; names and other short values are stored without
invisible characters (salesdesk/ledger/keys.py: fold() and visible()). Rows stored before
are brought in line, with the app's own functions on purpose: a key left as it was would
let in the very copy it should block. A row whose new key is another row's is a duplicate
that exists already: it is left as it is (its old key still blocks what it blocked) and
counted in the log, for someone to merge by hand.

Revision ID: 4c2732d479c0
Revises: 7c485c5b3d48
Create Date: 2026-12-04 17:30:00

"""

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

from salesdesk.ledger import keys, search

revision = "4c2732d479c0"
down_revision = "7c485c5b3d48"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

customers = sa.table(
    "customers",
    *map(sa.column, ["id", "kind", "name", "name_key", "industry", "province", "city"]),
    *map(sa.column, ["sort_name", "search_tokens"]),
)
contacts = sa.table(
    "contacts", *map(sa.column, ["id", "name", "title", "email", "email_key", "wechat", "search_text"])
)
contact_phones = sa.table("contact_phones", *map(sa.column, ["id", "contact_id", "number", "key"]))


class UniqueKeys:
    """The keys one unique column holds: a row may move to a key that no other row holds."""

    def __init__(self, rows):
        self.holder = {key: row_id for row_id, key in rows if key is not None}
        self.left = 0

    def move(self, row_id, old, new):
        if new == old:
            return True
        if new is None or new in self.holder:
            self.left += 1
            return False
        self.holder.pop(old, None)
        self.holder[new] = row_id
        return True


def _shown(value):
    return keys.visible(value).strip() if value else value


def _update(table, row_id, old, new):
    changed = {column: value for column, value in new.items() if value != getattr(old, column)}
    if changed:
        op.get_bind().execute(table.update().where(table.c.id == row_id).values(changed))
    return bool(changed)


def _phones():
    """Old phone keys kept the digits of other scripts (١٣٨…): read them as ASCII."""
    rows = op.get_bind().execute(sa.select(contact_phones).order_by(contact_phones.c.id)).all()
    taken = UniqueKeys((row.id, row.key) for row in rows)
    keys_of, moved, done = {}, set(), 0
    for row in rows:
        key = row.key if row.key.isascii() else keys.phone_key(row.key)
        if not taken.move(row.id, row.key, key):
            key = row.key
        elif _update(contact_phones, row.id, row, {"number": _shown(row.number), "key": key}):
            done += 1
            if key != row.key:
                moved.add(row.contact_id)
        keys_of.setdefault(row.contact_id, []).append(key)
    return keys_of, moved, done, taken.left


def _folds_differently(value):
    return keys.fold(value or "").lower() != (value or "").lower()


def _contacts(phone_keys, phones_moved):
    rows = op.get_bind().execute(sa.select(contacts)).all()
    taken = UniqueKeys((row.id, row.email_key) for row in rows)
    done = 0
    for row in rows:
        email = _shown(row.email)
        email_key = keys.email_key(email) if email else row.email_key
        if not taken.move(row.id, row.email_key, email_key):
            continue
        new = {"name": _shown(row.name), "title": _shown(row.title), "wechat": _shown(row.wechat)}
        new |= {"email": email, "email_key": email_key}
        if row.id in phones_moved or _folds_differently(row.email) or _folds_differently(row.wechat):
            new["search_text"] = search.contact_search_text(phone_keys.get(row.id, []), email, new["wechat"])
        done += _update(contacts, row.id, row, new)
    return done, taken.left


def _customers():
    rows = op.get_bind().execute(sa.select(customers)).all()
    taken = UniqueKeys((row.id, row.name_key) for row in rows)
    done = 0
    for row in rows:
        shown = {column: _shown(getattr(row, column)) for column in ("name", "industry", "province", "city")}
        name_folds_differently = keys.fold(row.name) != unicodedata.normalize("NFKC", row.name)
        if not name_folds_differently and all(value == getattr(row, c) for c, value in shown.items()):
            continue
        name = shown["name"] or row.name
        name_key = keys.company_key(name) if row.kind == "company" else None
        if not taken.move(row.id, row.name_key, name_key):
            continue
        sort_name, search_tokens = search.index_values(name)
        new = shown | {"name": name, "name_key": name_key}
        new |= {"sort_name": sort_name, "search_tokens": search_tokens}
        done += _update(customers, row.id, row, new)
    return done, taken.left


def upgrade():
    phone_keys, phones_moved, phones_done, phones_left = _phones()
    contacts_done, contacts_left = _contacts(phone_keys, phones_moved)
    customers_done, customers_left = _customers()
    log.info(
        "Keys and names brought in line: %d customers, %d contacts, %d phone numbers. Left as they are, "
        "as their new key is another row's or empty (duplicates to merge by hand): %d customers, "
        "%d contacts (e-mail), %d phone numbers.",
        customers_done,
        contacts_done,
        phones_done,
        customers_left,
        contacts_left,
        phones_left,
    )


def downgrade():
    # Nothing to undo: the older code reads the new keys and names as they are.
    pass
