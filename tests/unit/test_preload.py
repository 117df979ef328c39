"""What `gunicorn --preload` can load once in the master for the workers to share."""

import gc
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


def test_the_master_loads_the_name_index_and_leaves_no_connection_to_the_workers(app, world):
    from salesdesk import load_shared_dictionaries
    from salesdesk.extensions import db
    from salesdesk.ledger import similar
    from tests.fixtures.ledger import make_customer

    customer_id = make_customer(world.rep_a, "深圳市腾飞科技有限公司").id
    similar._indexes.clear()  # as in a master that has served nothing yet
    db.session.remove()
    try:
        load_shared_dictionaries(app)
    finally:
        gc.unfreeze()  # this is the test process, not a master about to fork
    index = similar.name_index()
    assert index.synced_to is not None and customer_id in index.lengths
    assert db.engine.pool.checkedout() == 0
