"""Chinese-aware full-text search, the same on SQLite and PostgreSQL.

Neither database splits Chinese into words: SQLite's unicode61 tokenizer and
PostgreSQL's `simple` parser both make a whole run of Chinese one token. So the app
segments the text itself with rjieba (the Rust port of jieba) in search mode, which
also emits the short words inside long ones (报价单 -> 报价, 价单, 报价单), and stores
the words separated by spaces. SQLite indexes them in an FTS5 unicode61 table, and
PostgreSQL in a stored 'simple' tsvector with a GIN index; both then see exactly the
tokens the app made, so both find the same articles. A query is segmented in precise
mode, and every word must match (title or body). Ranking is deliberately simple and
identical on both: articles whose title has every word first, then the most recently
updated. One-character words are often part of longer ones (税 in 增值税), so a query
with one falls back to a substring scan of the segmented words.

search_articles() is the search a page makes: one page of hits the user may read,
highlighted, with the capped count.
"""

import re
from dataclasses import dataclass
from math import ceil

from markupsafe import Markup, escape
from sqlalchemy import select, text
from sqlalchemy.orm import defer, joinedload

from ..extensions import db
from ..paging import Page
from . import access
from .models import Article

# Letters and digits of any script; everything else separates words.
WORD = re.compile(r"[^\W_]+")
# Function words dropped from queries of several words (kept when alone).
STOP_WORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "和",
        "与",
        "及",
        "或",
        "在",
        "吗",
        "呢",
        "吧",
        "啊",
        "把",
        "被",
        "对",
        "也",
        "就",
        "都",
        "怎么",
        "如何",
        "什么",
        "怎样",
        "the",
        "a",
        "an",
        "of",
        "to",
        "and",
        "or",
    ]
)
MAX_QUERY_CHARS = 100
MAX_TERMS = 8
SNIPPET_CHARS = 120


def _segmenter():
    # Imported on first use: the dictionary costs memory and ~0.1 s to load, and
    # processes that never search (migrations, CLI) should not pay for it.
    import rjieba

    return rjieba


# Full-width forms (ＣＲＭ, １２３, the ideographic space) to their ASCII twins. Not NFKC:
# that costs over a millisecond per article, and keeping every character one
# character long lets highlighting work on the original text.
HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def normalize(value):
    """Half-width and lower case, as both the index and the query see it."""
    return (value or "").translate(HALF_WIDTH).lower()


def _words(tokens):
    for token in tokens:
        yield from WORD.findall(token)


def index_words(value):
    """The space-separated words stored for the index: search mode, each once."""
    segmented = _segmenter().cut_for_search(normalize(value))
    return " ".join(dict.fromkeys(_words(segmented)))


@dataclass(frozen=True)
class Query:
    terms: tuple  # words every match must contain
    prefix: bool  # the last word may be the start of a longer (Latin) word, as typed
    substring: bool  # a one-character word: scan text instead of the index

    def __bool__(self):
        return bool(self.terms)


def parse_query(raw):
    typed = normalize((raw or "")[:MAX_QUERY_CHARS])
    value = typed.strip()
    terms = list(dict.fromkeys(_words(_segmenter().cut(value)))) if value else []
    if len(terms) > 1:
        terms = [term for term in terms if term not in STOP_WORDS] or terms
    terms = terms[:MAX_TERMS]
    substring = any(len(term) == 1 for term in terms)
    last = terms[-1] if terms else ""
    prefix = (
        not substring
        and len(last) >= 2
        and last.isascii()
        and typed.endswith(last)  # not once the user typed past the word
    )
    return Query(tuple(terms), prefix, substring)


def _fts5_expression(query, column=None):
    phrases = [f'"{term}"' for term in query.terms]
    if query.prefix:
        phrases[-1] += "*"
    expression = " ".join(phrases)
    return f"{column} : ({expression})" if column else expression


def _tsquery(query):
    parts = list(query.terms)
    if query.prefix:
        parts[-1] += ":*"
    return " & ".join(parts)


def _visibility(include_drafts):
    return "" if include_drafts else "AND a.status = 'published'"


def _conditions(query, dialect):
    """SQL for "matches everywhere" and "matches in the title", and their parameters."""
    if query.substring:
        params, title_all, anywhere = {}, [], []
        for number, term in enumerate(query.terms):
            # The segmented words hold every letter and digit of the text, already
            # folded, in a quarter of its length: scanning them finds what scanning
            # the text would. Terms have no LIKE wildcards (letters and digits only).
            params[f"t{number}"] = f"%{term}%"
            title_all.append(f"a.search_title LIKE :t{number}")
            anywhere.append(f"(a.search_title LIKE :t{number} OR a.search_body LIKE :t{number})")
        return " AND ".join(anywhere), " AND ".join(title_all), params
    if dialect == "sqlite":
        return (
            "a.id IN (SELECT rowid FROM kb_search WHERE kb_search MATCH :q)",
            "a.id IN (SELECT rowid FROM kb_search WHERE kb_search MATCH :title_q)",
            {"q": _fts5_expression(query), "title_q": _fts5_expression(query, "search_title")},
        )
    # Both are GIN-indexed (see migrations): a stored vector, and the title expression.
    return (
        "a.search_vector @@ to_tsquery('simple', :q)",
        "to_tsvector('simple', a.search_title) @@ to_tsquery('simple', :q)",
        {"q": _tsquery(query)},
    )


MAX_TITLE_HITS = 1000
MAX_COUNT = 1000


def find(query, *, include_drafts, limit, offset=0):
    """(ids in rank order, whether each matched in the title, total) for a parsed query;
    a total above MAX_COUNT is given as MAX_COUNT + 1.

    Three small queries instead of one that sorts every match: the articles with
    every word in the title (few), the number of matches, and one page of the
    others. The last two walk the index on (status, updated_at) and look each
    article up in the set of matches, so a word found in nearly every article costs
    about a millisecond rather than a sort of thousands of rows.
    """
    if not query:
        return [], {}, 0
    dialect = db.session.get_bind().dialect.name
    everywhere, in_title, params = _conditions(query, dialect)
    visible = _visibility(include_drafts)
    order = "ORDER BY a.updated_at DESC, a.id DESC"
    articles = "kb_articles a"
    if dialect == "sqlite" and include_drafts:
        # Without the status equality SQLite would fetch every match and sort it.
        articles += " INDEXED BY ix_kb_articles_updated"
    execute = db.session.execute
    title_ids = (
        execute(
            text(f"SELECT a.id FROM {articles} WHERE {in_title} {visible} {order} LIMIT {MAX_TITLE_HITS}"),
            params,
        )
        .scalars()
        .all()
    )
    # Counting stops past MAX_COUNT: "more than 1000" is all a reader needs, and
    # counting every match of a word found nearly everywhere is the costly part.
    total = execute(
        text(
            f"SELECT count(*) FROM (SELECT 1 FROM {articles} WHERE {everywhere} {visible} "
            f"LIMIT {MAX_COUNT + 1}) AS capped"
        ),
        params,
    ).scalar()
    ids = title_ids[offset : offset + limit]
    wanted = limit - len(ids)
    if wanted > 0:
        body_offset = max(0, offset - len(title_ids))
        ids += (
            execute(
                text(
                    f"SELECT a.id FROM {articles} WHERE {everywhere} AND NOT ({in_title}) {visible} "
                    f"{order} LIMIT :limit OFFSET :offset"
                ),
                {**params, "limit": wanted, "offset": body_offset},
            )
            .scalars()
            .all()
        )
    titled = set(title_ids)
    return ids, {article_id: article_id in titled for article_id in ids}, total


def _pattern(query):
    terms = sorted(query.terms, key=len, reverse=True)
    return re.compile("|".join(re.escape(term) for term in terms), re.IGNORECASE)


def highlight(value, query):
    """The text, escaped, with every query word wrapped in <mark>."""
    if not query or not value:
        return escape(value or "")
    pattern = _pattern(query)
    out, last = [], 0
    folded = normalize(value)
    for match in pattern.finditer(folded):
        out.append(escape(value[last : match.start()]))
        out.append(Markup("<mark>") + escape(value[match.start() : match.end()]) + Markup("</mark>"))
        last = match.end()
    out.append(escape(value[last:]))
    return Markup("").join(out)


def snippet(value, query, length=SNIPPET_CHARS):
    """A window of the text around the first match, highlighted."""
    value = value or ""
    start = 0
    if query:
        pattern = _pattern(query)
        # Most text has no full-width letters: search it as it is before folding it.
        match = pattern.search(value) or pattern.search(normalize(value))
        if match:
            start = max(0, match.start() - length // 4)
    end = min(len(value), start + length)
    piece = value[start:end]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(value) else ""
    return Markup(prefix) + highlight(piece, query) + Markup(suffix)


PAGE_SIZE = 20
LIVE_RESULTS = 6  # the dropdown under the search box
MAX_PAGE = 1000


@dataclass
class Hit:
    article: Article
    title: object  # Markup with <mark>
    snippet: object
    in_title: bool


@dataclass
class SearchResults:
    query: Query
    page: Page  # of Hits, drawn by the pagination macro; no total once counting stopped
    total: int  # the matches counted: MAX_COUNT + 1 stands for "more than MAX_COUNT"

    @property
    def hits(self):
        return self.page.items

    @property
    def more(self):
        """More matches than were counted (the total shown is then a lower bound)."""
        return self.total > MAX_COUNT

    @property
    def shown_total(self):
        return min(self.total, MAX_COUNT)

    @property
    def pages(self):
        """The pages the counted matches fill."""
        return max(1, ceil(self.shown_total / self.page.per_page))


def search_articles(user, raw_query, *, page=1, per_page=PAGE_SIZE):
    """Articles the user may read that contain every word of the query, ranked."""
    query = parse_query(raw_query)
    page = max(1, min(page or 1, MAX_PAGE))
    # One id more than a page tells whether another page follows, as paging.paginate does.
    ids, in_title, total = find(
        query, include_drafts=access.may_see_drafts(user), limit=per_page + 1, offset=(page - 1) * per_page
    )
    has_next, ids = len(ids) > per_page and page < MAX_PAGE, ids[:per_page]
    articles = {
        article.id: article
        for article in db.session.scalars(
            select(Article)
            .where(Article.id.in_(ids))
            .options(
                joinedload(Article.category),
                # The results need the plain text for snippets, not the source or the index words.
                defer(Article.body),
                defer(Article.search_title),
                defer(Article.search_body),
            )
        )
    }
    hits = [
        Hit(
            article=articles[article_id],
            title=highlight(articles[article_id].title, query),
            snippet=snippet(articles[article_id].plain_text, query),
            in_title=in_title[article_id],
        )
        for article_id in ids
        if article_id in articles
    ]
    counted = None if total > MAX_COUNT else total
    return SearchResults(
        query=query, page=Page(hits, page, per_page, has_next=has_next, total=counted), total=total
    )
