"""The demo company and its data, for trying Salesdesk out: `flask salesdesk demo` (which
`make run` calls) runs load(). Each part is written through its feature's services and
does nothing once its data are there; the words they are made of are data files
(data/*.toml, read by words.py)."""

from . import company, fields, kb, ledger, performance, recognition, rules, support

# Users first; the rules, the knowledge base, the support desk and recognition build on
# the ledger; recognition after them, so its closed months count the support desk's
# points; the targets last, from what everyone did; the custom fields after the ledger
# they fill (their edits leave customers' timelines as they were).
PARTS = (company, ledger, rules, kb, support, recognition, performance, fields)


def load():
    """Load whatever part of the demo is missing."""
    for part in PARTS:
        part.seed()
