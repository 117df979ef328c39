"""Customer search: the tokens we index and the queries we run against them.

Names are indexed as tokens the database can match exactly and fast: Chinese
character bigrams (a phrase of bigrams finds any substring of two or more
characters) and single characters, Latin words, and pinyin and pinyin initials from
every syllable on (so `tengfei`, `feikeji` and `tfkj` all find 深圳腾飞科技). SQLite keeps
them in an FTS5 table, PostgreSQL in a GIN-indexed tsvector; both see the same tokens.
Contact names are indexed alike, as bigrams and Latin words (郭子豪, 王总, 子豪), without
pinyin: `keji` should not find every customer with a contact called 柯吉.
Contact details (phone digits, e-mail, WeChat id) are matched as substrings through a
trigram index, and only where the searching user may see them.

Contact names are not hidden details: every page shows them to everyone (only phones,
e-mail and WeChat are masked, see access.py), so they find a customer for everyone.
"""

import os
import re
from functools import cache

from sqlalchemy import and_, func, literal_column, select, text

from ..extensions import db
from . import access, pinyin_phrases
from .keys import fold, phone_key, simplify

CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
LATIN_WORD = re.compile(r"[a-z0-9]+")
MAX_PINYIN_TOKEN = 40
MIN_CONTACT_QUERY = 3
TRIGRAM = 3  # characters a trigram index needs of a needle to narrow anything


@cache
def _pypinyin():
    # pypinyin's dictionaries cost memory: load them only in processes that need them,
    # and of its phrases only those that read otherwise than their characters (44 MB
    # less; see pinyin_phrases). Its tables are read-only here: no private copy either.
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
    os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
    import pypinyin

    pypinyin.load_phrases_dict(pinyin_phrases.load())
    return pypinyin


def pinyin(text, initials=False):
    """Pinyin syllables (or their first letters) of the Chinese in `text`."""
    module = _pypinyin()
    style = module.Style.FIRST_LETTER if initials else module.Style.NORMAL
    return [syllable for syllable in module.lazy_pinyin(text, style=style) if syllable.isascii()]


def index_values(name):
    """(sort key, search tokens) of a customer name, reading its pinyin once.

    The sort key is the pinyin spelling, so lists sort as Chinese readers expect (阿里
    before 百度). Tokens: bigrams and characters of every run of Chinese, Latin words,
    and pinyin and initials from every syllable on.
    """
    normalised = simplify(name)
    runs = CJK_RUN.findall(normalised)
    # Each run on its own: joined across brackets, 重庆 would be read zhòng.
    syllables = {run: pinyin(run) for run in runs}
    spelled = CJK_RUN.sub(lambda match: "".join(syllables[match.group(0)]), normalised)
    sort = "".join(LATIN_WORD.findall(spelled))[:400]
    tokens = []
    for run in runs:
        tokens += [run[i : i + 2] for i in range(len(run) - 1)]
    for run in runs:
        tokens += list(run)
    tokens += LATIN_WORD.findall(normalised)
    full = [syllable for run in runs for syllable in syllables[run]]
    letters = [syllable[0] for syllable in full]
    for parts in (full, letters) if full else ():
        tokens += ["".join(parts[i:])[:MAX_PINYIN_TOKEN] for i in range(len(parts))]
    return sort, " ".join(dict.fromkeys(tokens))


def sort_key(name):
    return index_values(name)[0]


def name_tokens(name):
    return index_values(name)[1]


def contact_name_tokens(name):
    """Search tokens of a contact's name: bigrams of each run of Chinese (a run of one
    character as itself), and Latin words."""
    normalised = simplify(name)
    tokens = []
    for run in CJK_RUN.findall(normalised):
        tokens += [run[i : i + 2] for i in range(len(run) - 1)] if len(run) > 1 else [run]
    tokens += LATIN_WORD.findall(normalised)
    return " ".join(dict.fromkeys(tokens))


def contact_search_text(phone_keys, email, wechat):
    return " ".join([*phone_keys, fold(email).lower(), fold(wechat).lower()]).strip()


def _terms(query):
    """(phrases of CJK tokens, Latin prefixes) for a user's query."""
    normalised = simplify(query)
    phrases = []
    for run in CJK_RUN.findall(normalised):
        phrases.append([run[i : i + 2] for i in range(len(run) - 1)] if len(run) > 1 else [run])
    prefixes = LATIN_WORD.findall(normalised)
    return phrases, prefixes


def _fts5_expression(phrases, prefixes):
    parts = ['"' + " ".join(tokens) + '"' for tokens in phrases]
    parts += [f'"{prefix}"*' for prefix in prefixes]
    return " AND ".join(parts)


def _tsquery_expression(phrases, prefixes):
    parts = ["(" + " <-> ".join(f"'{token}'" for token in tokens) + ")" for tokens in phrases]
    parts += [f"'{prefix}':*" for prefix in prefixes]
    return " & ".join(parts)


def _token_matches(query, fts5_table, tsvector_column):
    """SQL selecting the rowids (SQLite) or the condition (PostgreSQL) of rows whose
    tokens match every word of the query; None when there is nothing to search for."""
    phrases, prefixes = _terms(query)
    if not phrases and not prefixes:
        return None
    if db.engine.dialect.name == "sqlite":
        rowids = text(f"SELECT rowid FROM {fts5_table} WHERE {fts5_table} MATCH :expression")
        return rowids.bindparams(expression=_fts5_expression(phrases, prefixes)).columns(
            literal_column("rowid")
        )
    condition = text(f"{tsvector_column} @@ to_tsquery('simple', :tsquery)")
    return condition.bindparams(tsquery=_tsquery_expression(phrases, prefixes))


def name_matches(query):
    """A condition on customers: the name matches every word of the query; None when
    the query has nothing to search for."""
    from .models import Customer

    matched = _token_matches(query, "customer_search", "customers.search_vector")
    if matched is None or db.engine.dialect.name != "sqlite":
        return matched
    return Customer.id.in_(matched)


def contact_name_matches(query):
    """A condition on customers: one of its contacts' names matches every word of the
    query; None when the query has nothing to search for."""
    from .models import Contact, Customer

    matched = _token_matches(query, "contact_name_search", "contacts.name_vector")
    if matched is None:
        return None
    if db.engine.dialect.name == "sqlite":
        return Customer.id.in_(select(Contact.customer_id).where(Contact.id.in_(matched)))
    return Customer.id.in_(select(Contact.customer_id).where(matched))


def contacts_named(query, customer_ids):
    """{customer id: its first contact whose name matches the query}, among customer_ids:
    the contact a list row shows, so that 韩佩玲 finds a row that says why."""
    from .models import Contact

    matched = _token_matches(query, "contact_name_search", "contacts.name_vector")
    if matched is None or not customer_ids:
        return {}
    named = Contact.id.in_(matched) if db.engine.dialect.name == "sqlite" else matched
    rows = db.session.execute(
        select(Contact.customer_id, func.min(Contact.id))
        .where(Contact.customer_id.in_(customer_ids), named)
        .group_by(Contact.customer_id)
    )
    return dict(rows.all())


def ways_to_match(user, query, fields=()):
    """The conditions on customers under which one matches the query as `user` searches:
    every word in its name, every word in one contact's name (云栖 李娜 finds neither),
    contact details `user` may see (hidden digits stay hidden), or the text of a custom
    field among `fields` marked searchable (a sensitive one where `user` sees it unmasked).
    A customer matches when any holds; none: the query finds nothing. Each condition
    uses its own index; queries.list_customers counts them one by one."""
    from .models import Customer

    ways = [name_matches(query), contact_name_matches(query)]
    fragment = contact_fragment(query)
    if fragment:
        ways.append(
            and_(Customer.id.in_(contact_customer_ids(fragment)), access.details_visible_clause(user))
        )
    ways.extend(custom_text_matches(user, query, fields))
    return [way for way in ways if way is not None]


def contains(value, text):
    """A case-insensitive "contains", with % and _ taken literally. SQLite's LIKE already
    ignores the case of ASCII letters (as its lower() does, and no more)."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if db.engine.dialect.name == "sqlite":
        return value.like(pattern, escape="\\")
    return value.ilike(pattern, escape="\\")


def custom_text_contains(custom_field, text):
    """A condition on customers: a custom text field's value contains `text`. Every text
    value is > '': said so, SQLite reads the values from the field's index (a range
    over it) instead of every customer's row, 8 ms rather than 115 at 100,000."""
    from ..fields import sql as field_sql

    value = field_sql.value_of(custom_field)
    if field_sql.is_postgresql() and len(text) < TRIGRAM:
        # Its trigram index cannot narrow one or two characters (电商): asked anyway, it
        # hands every value to a recheck, slower than the planner's other ways (a team's
        # owners, 46 → 59 ms). Written so, the condition cannot use that index.
        return and_(value > "", func.strpos(func.lower(value), text.lower()) > 0)
    return and_(value > "", contains(value, text))


def custom_text_matches(user, query, fields):
    """Conditions on customers, one a searchable custom text field (each reads its own
    index): its value contains the query; a sensitive one's only where `user` may see it."""
    from ..fields.models import FieldType

    text_query = " ".join(query.split())
    if not text_query:
        return []
    ways = []
    for f in fields:
        if f.searchable and f.type == FieldType.TEXT and f.active:
            way = custom_text_contains(f, text_query)
            ways.append(and_(way, access.details_visible_clause(user)) if f.sensitive else way)
    return ways


def contact_fragment(query):
    """The piece of a query to look for in contact details, or None. Phone numbers are
    compared as digits, so 138-0013 (or ١٣٨-٠٠١٣) finds 13800138000."""
    stripped = fold(query).strip().lower()
    if CJK_RUN.search(stripped):
        return None  # phone numbers, e-mails and WeChat ids hold no Chinese
    if re.fullmatch(r"[\d\s\-+()（）]+", stripped):
        digits = re.sub(r"\D", "", stripped)
        if len(digits) < 4:
            return None
        return phone_key(digits) if len(digits) >= 12 else digits
    if len(stripped) < MIN_CONTACT_QUERY or " " in stripped:
        return None
    return stripped


def contact_customer_ids(fragment):
    """customers.id of contacts whose phone, e-mail or WeChat contains `fragment`."""
    from .models import Contact

    if db.engine.dialect.name == "sqlite":
        # GLOB on the FTS5 trigram table uses its index (LIKE … ESCAPE would scan it);
        # the text is lower-cased, like the fragment.
        pattern = "*" + re.sub(r"([*?\[\]])", r"[\1]", fragment) + "*"
        contact_ids = (
            text("SELECT rowid FROM contact_search WHERE search_text GLOB :pattern")
            .bindparams(pattern=pattern)
            .columns(literal_column("rowid"))
        )
        return select(Contact.customer_id).where(Contact.id.in_(contact_ids))
    pattern = "%" + fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return select(Contact.customer_id).where(Contact.search_text.like(pattern, escape="\\"))
