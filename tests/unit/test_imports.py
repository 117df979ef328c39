"""Each feature package, and the modules every feature uses, import first in a fresh
interpreter: a script, a job or a shell can start from any of them (an import cycle
through auth made `import salesdesk.performance` fail before create_app)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(path.parent.name for path in (ROOT / "salesdesk").glob("*/__init__.py"))
FIRST = ["salesdesk.i18n", "salesdesk.web", "salesdesk.notifications", *(f"salesdesk.{p}" for p in PACKAGES)]


def test_every_feature_package_imports_first():
    # One interpreter per module (an import fills sys.modules for the next), started together.
    started = {
        name: subprocess.Popen(
            [sys.executable, "-c", f"import {name}"], cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        for name in FIRST
    }
    last_lines = {name: run.communicate()[1].strip().splitlines()[-1:] for name, run in started.items()}
    assert {name: error for name, error in last_lines.items() if started[name].returncode} == {}
