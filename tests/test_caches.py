"""The bounded map serving keeps between requests: the least recently used entry goes first."""

from learnlake.caches import LRU


def test_the_least_recently_used_entry_goes_first():
    kept = LRU(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "a" is now the most recently used
    kept.put("c", 3)
    assert (kept.get("a"), kept.get("b"), kept.get("c"), len(kept)) == (1, None, 3, 2)
    kept.put("a", 10)  # a new value for a kept key replaces it and keeps the size
    assert (kept.get("a"), len(kept)) == (10, 2)
