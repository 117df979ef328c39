"""Similar company names (fuzzy duplicate warning) in a few milliseconds at 100,000
customers: each process keeps the name keys in memory, grouped by length, and brings
them up to date before every check (new ids, and rows whose updated_at moved)."""

import re
import threading
from array import array
from datetime import timedelta

from rapidfuzz import fuzz, process
from sqlalchemy import select, union_all

from ..extensions import db
from .models import Customer

# Rows changed this long before the last sync are read again, so a transaction that
# committed late with an earlier timestamp is not missed.
RESYNC_MARGIN = timedelta(minutes=2)


# The first characters of the keys are kept apart, so that a check scores only the keys
# that can reach the threshold (see _Keys.candidates).
LEADING = 3


def most_edits(n, length, threshold):
    """The most insertions and deletions (what rapidfuzz's ratio counts) that keep keys
    of n and `length` characters similar, or None when none does. At least the length
    difference, or two for equal lengths (one character replaced): identical keys are
    exact duplicates, which the unique name key finds."""
    edits = int((n + length) * (1 - threshold) + 1e-9)
    edits -= (edits - n - length) % 2  # n + length - 2 × the common subsequence
    return edits if edits >= (abs(n - length) or 2) else None


class _Keys:
    """The keys of one length, packed: customer ids in an array, the keys end to end in
    one string, and for each leading position a string of the characters there. About
    30 bytes a customer instead of 340 in dicts of str objects, and nothing a check reads
    is a Python object per key: scanning a list of str writes every object's reference
    count, which copies each page of the index the master loaded into every worker."""

    def __init__(self, length):
        self.length = length
        self.ids = array("i")
        self.text = ""
        self.leading = [""] * min(length, LEADING)
        self.added = {}  # customer id -> key, packed at the end of a refresh
        self.removed = set()

    def add(self, customer_id, key):
        self.added[customer_id] = key

    def remove(self, customer_id):
        if self.added.pop(customer_id, None) is None:
            self.removed.add(customer_id)

    def pack(self):
        if not (self.added or self.removed):
            return
        if self.removed:  # rare (a rename, the trash): rebuild
            kept = [n for n, customer_id in enumerate(self.ids) if customer_id not in self.removed]
            self.ids = array("i", (self.ids[n] for n in kept))
            self.text = "".join(self._keys(kept))
            self.removed = set()
        if self.added:
            self.ids.extend(self.added)
            self.text += "".join(self.added.values())
            self.added = {}
        self.leading = [self.text[position :: self.length] for position in range(len(self.leading))]

    def _keys(self, positions=None):
        text, length = self.text, self.length
        if positions is None:
            return [text[start : start + length] for start in range(0, len(text), length)]
        return [text[n * length : (n + 1) * length] for n in positions]

    def candidates(self, key, foreign):
        """Positions of the keys worth scoring against `key`, knowing that a similar one
        has at most `foreign` characters outside its longest common subsequence with
        `key`: one of its first foreign + 1 characters is in `key`."""
        if foreign >= len(self.leading):
            return None  # every key
        chars = re.compile("[" + "".join(map(re.escape, set(key))) + "]")
        picked = set()
        for position in range(foreign + 1):
            picked.update(match.start() for match in chars.finditer(self.leading[position]))
        return sorted(picked)

    def containing(self, fragment, at_start):
        """(customer id, where in its key) of the keys holding `fragment` (only at their
        start when at_start): a str.find over the packed keys, no object per key read."""
        text, length, width = self.text, self.length, len(fragment)
        at = text.find(fragment)
        while at != -1:
            n, offset = divmod(at, length)
            if offset + width <= length and (offset == 0 or not at_start):
                yield self.ids[n], offset
            at = text.find(fragment, at + 1)

    def similar(self, key, threshold, limit, foreign):
        self.pack()
        positions = self.candidates(key, foreign)
        keys = self._keys(positions)
        for _name, score, index in process.extract(
            key, keys, scorer=fuzz.ratio, score_cutoff=threshold * 100, limit=limit
        ):
            yield self.ids[index if positions is None else positions[index]], score


class _Lengths:
    """Customer id -> the length of its key, one byte an id (names are at most 200
    characters): 100 KB for 100,000 customers, where a dict takes 8 MB."""

    def __init__(self):
        self.by_id = bytearray()

    def get(self, customer_id):
        return self.by_id[customer_id] if customer_id < len(self.by_id) else 0

    def set(self, customer_id, length):
        if customer_id >= len(self.by_id):
            self.by_id.extend(bytes(customer_id - len(self.by_id) + 1024))
        self.by_id[customer_id] = length

    def __contains__(self, customer_id):
        return self.get(customer_id) > 0


class NameIndex:
    def __init__(self):
        self.by_length = {}  # length -> _Keys
        self.lengths = _Lengths()
        # (updated_at, deleted_at) of the rows read within the resync margin: read again
        # unchanged, they change nothing.
        self.recent = {}
        self.synced_to = None
        self.max_id = 0
        self.lock = threading.Lock()

    def _put(self, customer_id, key):
        old = self.lengths.get(customer_id)
        if old:
            self.by_length[old].remove(customer_id)
        self.lengths.set(customer_id, len(key) if key else 0)
        if key:
            if len(key) not in self.by_length:
                self.by_length[len(key)] = _Keys(len(key))
            self.by_length[len(key)].add(customer_id, key)

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
        first = self.synced_to is None  # nothing to read again yet: remember nothing
        for customer_id, key, deleted_at, updated_at in rows:
            if self.recent.get(customer_id) == (updated_at, deleted_at):
                continue
            if not first:
                self.recent[customer_id] = (updated_at, deleted_at)
            self._put(customer_id, None if deleted_at else key)
            self.max_id = max(self.max_id, customer_id)
            if self.synced_to is None or updated_at > self.synced_to:
                self.synced_to = updated_at
        if self.synced_to is not None:
            since = self.synced_to - RESYNC_MARGIN
            self.recent = {i: seen for i, seen in self.recent.items() if max(filter(None, seen)) >= since}
        for keys in self.by_length.values():
            keys.pack()

    def similar(self, key, threshold, exclude_id=None, limit=5):
        """[(customer id, similarity 0..1)] best first."""
        found = []
        with self.lock:
            self.refresh()
            n = len(key)
            for length, keys in list(self.by_length.items()):
                edits = most_edits(n, length, threshold) if keys.ids or keys.added else None
                if edits is None:
                    continue
                for customer_id, score in keys.similar(
                    key, threshold, limit + 1, foreign=(length - n + edits) // 2
                ):
                    if customer_id != exclude_id:
                        found.append((customer_id, score / 100))
        return sorted(found, key=lambda match: -match[1])[:limit]

    def holding(self, fragments, limit, refresh=True):
        """Ids of the customers whose key holds one of `fragments` ({fragment: only at
        the start of a key?}): at most `limit`, those holding one at the start of their
        key first (a key starts with its trade name). refresh=False when the caller has
        just brought the index up to date."""
        offsets = {}
        with self.lock:
            if refresh:
                self.refresh()
            for length, keys in list(self.by_length.items()):
                for fragment, at_start in fragments.items():
                    if length >= len(fragment):
                        for customer_id, offset in keys.containing(fragment, at_start):
                            offsets[customer_id] = min(offset, offsets.get(customer_id, offset))
        return sorted(offsets, key=offsets.get)[:limit]


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
