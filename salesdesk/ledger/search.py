"""Customer search: the tokens we index and the queries we run against them.

Names are indexed as tokens the database can match exactly and fast: Chinese
character bigrams (a phrase of bigrams finds any substring of two or more
characters) and single characters, Latin words, and pinyin and pinyin initials from
every syllable on (so `tengfei`, `feikeji` and `tfkj` all find 深圳腾飞科技). SQLite keeps
them in an FTS5 table, PostgreSQL in a GIN-indexed tsvector; both see the same tokens.
Contact details (phone digits, e-mail, WeChat id) are matched as substrings through a
trigram index, and only where the searching user may see them.
"""

import os
import re
from functools import cache

from sqlalchemy import literal_column, select, text

from ..extensions import db
from . import pinyin_phrases
from .keys import fold, phone_key, simplify

CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
LATIN_WORD = re.compile(r"[a-z0-9]+")
MAX_PINYIN_TOKEN = 40
MIN_CONTACT_QUERY = 3


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


def name_matches(query):
    """A condition on customers: the name matches every word of the query; None when
    the query has nothing to search for."""
    from .models import Customer

    phrases, prefixes = _terms(query)
    if not phrases and not prefixes:
        return None
    if db.engine.dialect.name == "sqlite":
        rowids = text("SELECT rowid FROM customer_search WHERE customer_search MATCH :expression")
        rowids = rowids.bindparams(expression=_fts5_expression(phrases, prefixes)).columns(
            literal_column("rowid")
        )
        return Customer.id.in_(rowids)
    condition = text("customers.search_vector @@ to_tsquery('simple', :tsquery)")
    return condition.bindparams(tsquery=_tsquery_expression(phrases, prefixes))


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
