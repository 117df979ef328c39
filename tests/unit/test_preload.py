"""What `gunicorn --preload` can load once in the master for the workers to share."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, sys
from salesdesk import load_shared_dictionaries
lazy = [name for name in ("pypinyin", "rjieba", "opencc") if name in sys.modules]
load_shared_dictionaries()
loaded = [name for name in ("pypinyin", "rjieba", "opencc") if name in sys.modules]
print(lazy, loaded, gc.get_freeze_count() > 0)
"""


def test_dictionaries_load_only_when_asked_and_are_frozen_for_the_fork():
    # A fresh process: importing the app loads none of them (requests load them lazily).
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[0] == "[] ['pypinyin', 'rjieba', 'opencc'] True"
