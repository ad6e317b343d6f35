"""A bounded, thread-safe least-recently-used map: what serving keeps between requests
(mastery, ranked lists, parsed feature documents, verified tokens, accounts, pseudonyms, the vectors of
sentences the tutor quotes)."""

import threading
from collections import OrderedDict


class LRU:
    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        """The value kept under ``key``, or None."""
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            if len(self.items) > self.size:
                self.items.popitem(last=False)

    def __len__(self) -> int:
        return len(self.items)
