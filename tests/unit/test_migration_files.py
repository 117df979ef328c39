"""Migration files are named in chain order, so `ls migrations/versions` reads as history."""

import re
from pathlib import Path

from alembic.script import ScriptDirectory

VERSIONS = Path(__file__).resolve().parents[2] / "migrations"


def test_migration_file_names_are_numbered_in_chain_order():
    scripts = ScriptDirectory(str(VERSIONS))
    oldest_first = list(reversed(list(scripts.walk_revisions())))
    names = [Path(script.path).name for script in oldest_first]
    expected_numbers = [f"{index:04d}" for index in range(1, len(names) + 1)]
    assert [name[:4] for name in names] == expected_numbers, names
    assert all(re.fullmatch(r"\d{4}_[a-z0-9_]+\.py", name) for name in names), names
    assert sorted(names) == names
