"""The fuzzy name index skips keys that cannot be similar: it must find exactly what
scoring every key with rapidfuzz finds."""

import random

import pytest
from rapidfuzz import fuzz

from salesdesk.ledger.similar import NameIndex, most_edits

ALPHABET = "腾飞科技华为恒达精密机械电子新能源网络"


def index_of(keys):
    index = NameIndex()
    index.refresh = lambda: None  # no database: the keys are filed by hand
    for customer_id, key in keys.items():
        index._put(customer_id, key)
    return index


def brute_force(keys, query, threshold):
    return {i for i, key in keys.items() if key != query and fuzz.ratio(query, key) >= threshold * 100}


def edited(rng, key):
    chars = list(key)
    for _edit in range(rng.randint(0, 3)):
        position = rng.randrange(len(chars) + 1)
        roll = rng.random()
        if roll < 0.33 and chars:
            chars.pop(min(position, len(chars) - 1))
        elif roll < 0.66:
            chars.insert(position, rng.choice(ALPHABET))
        elif chars:
            chars[min(position, len(chars) - 1)] = rng.choice(ALPHABET)
    return "".join(chars) or ALPHABET[0]


@pytest.mark.parametrize("threshold", [0.6, 0.75, 0.85, 0.9, 0.95])
def test_the_index_finds_what_scoring_every_key_finds(threshold):
    rng = random.Random(7)
    keys = {}
    while len(keys) < 3000:
        key = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(3, 10)))
        if key not in keys.values():
            keys[len(keys) + 1] = key
    index = index_of(keys)
    found_any = 0
    for _query in range(150):
        query = edited(rng, rng.choice(list(keys.values())))
        found = {i for i, _score in index.similar(query, threshold, limit=10**6) if keys[i] != query}
        assert found == brute_force(keys, query, threshold), query
        found_any += bool(found)
    assert found_any  # some queries did find similar keys


def test_a_changed_or_trashed_key_is_found_under_its_new_value_only():
    index = index_of({1: "腾飞科技网络", 2: "恒达精密机械"})
    index._put(1, "华为电子能源")
    assert [i for i, _s in index.similar("腾飞科技网", 0.85)] == []
    assert [i for i, _s in index.similar("华为电子能", 0.85)] == [1]
    index._put(2, None)
    assert index.similar("恒达精密机", 0.85) == []


def test_most_edits_keeps_the_parity_and_leaves_identical_keys_to_the_exact_check():
    assert most_edits(4, 4, 0.85) is None  # only identical keys would reach 85 %
    assert most_edits(8, 6, 0.85) == 2  # two deletions: 1 - 2/14 ≈ 0.857
    assert most_edits(8, 7, 0.85) == 1  # an odd total length allows odd edits only
    assert most_edits(4, 8, 0.85) is None
