"""A readable difference between two texts: which lines changed, and within a changed
line which words. Chinese has no spaces, so lines are split into words with rjieba
(报价需经理审批 -> 报价 需 经理 审批): changing 经理 to 总监 marks that word, not the
whole line, and not single characters that happen to repeat."""

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from markupsafe import Markup, escape

CONTEXT_LINES = 2
# Beyond this many lines on either side, lines are compared without inline words.
MAX_INLINE_LINES = 400
LATIN_OR_SPACE = re.compile(r"\s+|[A-Za-z0-9_.%-]+|[^\sA-Za-z0-9_.%-]+")


@dataclass
class Line:
    kind: str  # "same", "removed", "added", "skip"
    old_number: int | None = None
    new_number: int | None = None
    html: Markup = field(default_factory=Markup)


def words(line):
    """Split a line into words: runs of Latin letters or digits, runs of spaces, and
    Chinese segmented by rjieba. Joining the words gives the line back."""
    import rjieba

    out = []
    for piece in LATIN_OR_SPACE.findall(line):
        if piece.isascii():
            out.append(piece)
        else:
            out.extend(rjieba.cut(piece))
    return out


def inline(old, new):
    """(old line, new line) as HTML with <del> and <ins> around the changed words."""
    a, b = words(old), words(new)
    old_html, new_html = [], []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        removed, added = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if op == "equal":
            old_html.append(removed)
            new_html.append(added)
            continue
        if removed:
            old_html.append(Markup("<del>") + removed + Markup("</del>"))
        if added:
            new_html.append(Markup("<ins>") + added + Markup("</ins>"))
    return Markup("").join(old_html), Markup("").join(new_html)


def diff(old_text, new_text, context=CONTEXT_LINES):
    """Lines to show, unchanged stretches beyond `context` lines folded into "skip"."""
    old_lines = (old_text or "").splitlines()
    new_lines = (new_text or "").splitlines()
    matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    small = max(len(old_lines), len(new_lines)) <= MAX_INLINE_LINES
    out = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.extend(
                Line("same", i1 + k + 1, j1 + k + 1, escape(old_lines[i1 + k])) for k in range(i2 - i1)
            )
            continue
        olds, news = old_lines[i1:i2], new_lines[j1:j2]
        paired = min(len(olds), len(news)) if op == "replace" and small else 0
        removed, added = [], []
        for k in range(paired):
            old_html, new_html = inline(olds[k], news[k])
            removed.append(Line("removed", i1 + k + 1, None, old_html))
            added.append(Line("added", None, j1 + k + 1, new_html))
        removed += [Line("removed", i1 + k + 1, None, escape(olds[k])) for k in range(paired, len(olds))]
        added += [Line("added", None, j1 + k + 1, escape(news[k])) for k in range(paired, len(news))]
        out.extend(removed + added)
    return _fold(out, context)


def _fold(lines, context):
    changed = [i for i, line in enumerate(lines) if line.kind != "same"]
    if not changed:
        return []
    keep = set()
    for i in changed:
        keep.update(range(max(0, i - context), min(len(lines), i + context + 1)))
    out, skipped = [], 0
    for i, line in enumerate(lines):
        if i in keep:
            if skipped:
                out.append(Line("skip", html=Markup(str(skipped))))
                skipped = 0
            out.append(line)
        else:
            skipped += 1
    if skipped:
        out.append(Line("skip", html=Markup(str(skipped))))
    return out


def changed(old_text, new_text):
    return (old_text or "").splitlines() != (new_text or "").splitlines()
