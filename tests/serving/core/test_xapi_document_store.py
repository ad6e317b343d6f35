"""The LRS's document store on SQLite and on PostgreSQL: concurrent writers lose nothing and the
preconditions hold under contention (xAPI part three, 3.1)."""

from concurrent.futures import ThreadPoolExecutor

import orjson

from serving.core.db import Database
from serving.core.migrate import upgrade
from serving.xapi.documents import DocumentKind, DocumentSet, DocumentStore, Preconditions
from serving.xapi.errors import XapiError

STATE = DocumentSet(DocumentKind.STATE, "http://example.org/a", "mbox:mailto:ada@example.org", None)


def _store(database_url: str) -> DocumentStore:
    upgrade(database_url)
    return DocumentStore(Database(database_url))


def test_concurrent_merges_of_one_document_lose_no_property(database_url):
    store = _store(database_url)

    def merge(i: int) -> str:
        return store.merge(STATE, "suspend", "application/json", orjson.dumps({f"k{i}": i}), Preconditions())

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(merge, range(16)))
    document = store.get(STATE, "suspend")
    assert orjson.loads(document.content) == {f"k{i}": i for i in range(16)}
    store.database.dispose()


def test_of_writers_racing_to_create_a_document_if_none_match_lets_exactly_one_win(database_url):
    store = _store(database_url)

    def create(i: int) -> int:
        try:
            store.put(STATE, "bookmark", "application/json", orjson.dumps({"winner": i}),
                      Preconditions(if_none_match="*"))
            return 204
        except XapiError as exc:
            return exc.status

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(create, range(8)))
    assert sorted(statuses) == [204] + [412] * 7
    winner = orjson.loads(store.get(STATE, "bookmark").content)["winner"]
    assert statuses[winner] == 204
    store.database.dispose()
