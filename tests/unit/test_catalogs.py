"""The Chinese catalogs are complete: every string in the code is translated."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "salesdesk"
FEATURES = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
METHOD_MAP = [("**.py", "python"), ("**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def catalog(directory):
    with open(directory / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po)


def extracted(*paths):
    ids = set()
    for path in paths:
        if path.is_dir():
            for _file, _line, message, _comments, _context in extract_from_dir(
                path, METHOD_MAP, keywords=KEYWORDS
            ):
                ids.add(message if isinstance(message, str) else message[0])
    return ids


def core_sources():
    from babel.messages.extract import extract_from_file

    ids = set()
    files = [*PACKAGE.glob("*.py"), *(ROOT / "templates").glob("*.html")]
    for file in files:
        method = "python" if file.suffix == ".py" else "jinja2"
        for _line, message, _comments, _context in extract_from_file(method, file, keywords=KEYWORDS):
            ids.add(message if isinstance(message, str) else message[0])
    for folder in ("_macros", "_partials", "errors"):
        ids |= extracted(ROOT / "templates" / folder)
    return ids


CATALOGS = [("core", PACKAGE / "translations", core_sources)] + [
    (
        name,
        PACKAGE / name / "translations",
        lambda name=name: extracted(PACKAGE / name, ROOT / "templates" / name),
    )
    for name in FEATURES
]


@pytest.mark.parametrize(("name", "directory", "sources"), CATALOGS, ids=[c[0] for c in CATALOGS])
def test_every_string_has_a_chinese_translation(name, directory, sources):
    messages = catalog(directory)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in messages
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(sources() - translated)
    assert not missing, f"untranslated in the {name} catalog (run `make messages` and translate): {missing}"


def test_a_string_means_the_same_in_every_catalog():
    # Flask-Babel merges the catalogs: a string translated two ways would show the
    # wrong one somewhere. Give such strings different English instead.
    seen = {}
    clashes = []
    for name, directory, _sources in CATALOGS:
        for message in catalog(directory):
            if message.id and message.string:
                key = message.id if isinstance(message.id, str) else message.id[0]
                other = seen.setdefault(key, (name, message.string))
                if other[1] != message.string:
                    clashes.append((key, other, (name, message.string)))
    assert not clashes, clashes
