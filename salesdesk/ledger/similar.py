"""Similar company names (fuzzy duplicate warning) in a few milliseconds at 100,000
customers: each process keeps the name keys in memory, grouped by length, and brings
them up to date before every check (new ids, and rows whose updated_at moved)."""

import threading
from collections import defaultdict
from datetime import timedelta

from rapidfuzz import fuzz, process
from sqlalchemy import select, union_all

from ..extensions import db
from .models import Customer

# Rows changed this long before the last sync are read again, so a transaction that
# committed late with an earlier timestamp is not missed.
RESYNC_MARGIN = timedelta(minutes=2)


# Keys are also filed under each of their first characters, so that a check scores only
# the keys that can reach the threshold (see _candidates).
LEADING = 2


def most_edits(n, length, threshold):
    """The most insertions and deletions (what rapidfuzz's ratio counts) that keep keys
    of n and `length` characters similar, or None when none does. At least the length
    difference, or two for equal lengths (one character replaced): identical keys are
    exact duplicates, which the unique name key finds."""
    edits = int((n + length) * (1 - threshold) + 1e-9)
    edits -= (edits - n - length) % 2  # n + length - 2 × the common subsequence
    return edits if edits >= (abs(n - length) or 2) else None


class NameIndex:
    def __init__(self):
        self.by_length = defaultdict(dict)  # length -> {customer id: name key}
        self.by_leading = defaultdict(dict)  # (length, position, character) -> {id: key}
        self.lists = {}  # length -> (ids, keys): what rapidfuzz scans, rebuilt on change
        self.lengths = {}  # customer id -> length it is filed under
        self.synced_to = None
        self.max_id = 0
        self.lock = threading.Lock()

    def _put(self, customer_id, key):
        old = self.lengths.get(customer_id)
        if key and old == len(key) and self.by_length[old].get(customer_id) == key:
            return  # read again within the resync margin, unchanged: keep the scan lists
        self.lengths.pop(customer_id, None)
        if old is not None:
            old_key = self.by_length[old].pop(customer_id)
            self.lists.pop(old, None)
            for position, char in enumerate(old_key[:LEADING]):
                self.by_leading[(old, position, char)].pop(customer_id, None)
        if key:
            self.by_length[len(key)][customer_id] = key
            self.lengths[customer_id] = len(key)
            self.lists.pop(len(key), None)
            for position, char in enumerate(key[:LEADING]):
                self.by_leading[(len(key), position, char)][customer_id] = key

    def _list(self, length):
        if length not in self.lists:
            names = self.by_length[length]
            self.lists[length] = (list(names), list(names.values()))
        return self.lists[length]

    def _candidates(self, key, length, foreign):
        """(ids, keys) of `length` characters worth scoring against `key`, knowing that
        a similar one has at most `foreign` characters outside its longest common
        subsequence with `key`: one of its first foreign + 1 characters is in `key`."""
        if foreign >= LEADING:
            return self._list(length)
        picked = {}
        for position in range(foreign + 1):
            for char in set(key):
                picked.update(self.by_leading.get((length, position, char), {}))
        return list(picked), list(picked.values())

    def refresh(self):
        query = select(Customer.id, Customer.name_key, Customer.deleted_at, Customer.updated_at)
        if self.synced_to is not None:
            since = self.synced_to - RESYNC_MARGIN
            # Three index ranges rather than one OR, which no index serves: new rows,
            # changed rows outside the trash, rows trashed since.
            query = union_all(
                query.where(Customer.id > self.max_id),
                query.where(Customer.deleted_at.is_(None), Customer.updated_at >= since),
                query.where(Customer.deleted_at.is_not(None), Customer.deleted_at >= since),
            )
        # In batches: fetching all 100,000 rows at once on the first check would leave
        # ~20 MB of freed but unreturned memory behind in every worker.
        rows = db.session.execute(query.execution_options(yield_per=2000))
        for customer_id, key, deleted_at, updated_at in rows:
            self._put(customer_id, None if deleted_at else key)
            self.max_id = max(self.max_id, customer_id)
            if self.synced_to is None or updated_at > self.synced_to:
                self.synced_to = updated_at

    def similar(self, key, threshold, exclude_id=None, limit=5):
        """[(customer id, similarity 0..1)] best first."""
        found = []
        with self.lock:
            self.refresh()
            n = len(key)
            for length in list(self.by_length):
                edits = most_edits(n, length, threshold) if self.by_length[length] else None
                if edits is None:
                    continue
                ids, keys = self._candidates(key, length, foreign=(length - n + edits) // 2)
                for _name, score, index in process.extract(
                    key, keys, scorer=fuzz.ratio, score_cutoff=threshold * 100, limit=limit + 1
                ):
                    if ids[index] != exclude_id:
                        found.append((ids[index], score / 100))
        return sorted(found, key=lambda match: -match[1])[:limit]


_indexes = {}


def name_index():
    """The index for the current database (tests switch databases within a process)."""
    url = str(db.engine.url)
    if url not in _indexes:
        _indexes[url] = NameIndex()
    return _indexes[url]


def forget_name_indexes():
    """Drop every process-local index: for when a database was emptied behind our back
    (tests truncating tables, a restore from backup)."""
    _indexes.clear()
