"""The LRS's statement store on PostgreSQL (``LEARNLAKE_LRS_DATABASE_URL``), shared by two API replicas: what one
stores the other reads, voids and refuses to overwrite; the same statement sent to both at once is stored once;
an erasure works there as on SQLite."""

import threading
import uuid
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from lake.statement_store import Query, StatementStore
from learnlake.settings import Settings
from serving.core.source_keys import ALL_SCOPES, create_key
from serving.main import create_app
from tests.postgres import fresh_database
from tests.serving.conftest import ADA, V, statement

pytestmark = pytest.mark.integration


@pytest.fixture
def replicas(tmp_path):
    """Two apps with homes of their own, one core database and one LRS database, both on PostgreSQL."""
    with ExitStack() as stack:
        core, lrs_url = stack.enter_context(fresh_database()), stack.enter_context(fresh_database(core=False))
        clients = [stack.enter_context(TestClient(create_app(Settings(
            home=tmp_path / f"replica-{i}", database_url=core, lrs_database_url=lrs_url, writer_id=f"api-{i}",
            run_committer=False, ingest_validation_workers=0)), headers=V)) for i in range(2)]
        key = create_key(clients[0].app.state.database, "lrs", ALL_SCOPES)[1]
        for client in clients:
            client.auth = ("lrs", key)
        yield clients, lrs_url


def test_replicas_share_one_statement_store(replicas):
    (a, b), _ = replicas
    first = statement(id=str(uuid.uuid4()))
    assert a.post("/xapi/statements", json=first).status_code == 200
    assert b.get("/xapi/statements", params={"statementId": first["id"]}).json()["id"] == first["id"]
    assert b.put("/xapi/statements", params={"statementId": first["id"]}, json=first).status_code == 204
    changed = statement(id=first["id"], verb={"id": "http://adlnet.gov/expapi/verbs/failed"})
    assert b.put("/xapi/statements", params={"statementId": first["id"]}, json=changed).status_code == 409
    by_agent = b.get("/xapi/statements", params={"agent": '{"mbox": "mailto:ada@example.org"}'}).json()
    assert [s["id"] for s in by_agent["statements"]] == [first["id"]]
    voiding = statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
                        object={"objectType": "StatementRef", "id": first["id"]})
    assert b.post("/xapi/statements", json=voiding).status_code == 200
    assert a.get("/xapi/statements", params={"statementId": first["id"]}).status_code == 404
    assert a.get("/xapi/statements", params={"voidedStatementId": first["id"]}).status_code == 200


def test_the_same_statements_sent_to_both_replicas_at_once_are_stored_once(replicas):
    (a, b), lrs_url = replicas
    sent = [statement(id=str(uuid.uuid4()), object={"id": f"http://example.org/activity/{n}"}) for n in range(12)]
    answers: list[int] = []

    def put_all(client) -> None:
        answers.extend(client.put("/xapi/statements", params={"statementId": s["id"]}, json=s).status_code
                       for s in sent)

    threads = [threading.Thread(target=put_all, args=(client,)) for client in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [204] * 24
    store = StatementStore(lrs_url)
    try:
        assert set(store.get_bodies([s["id"] for s in sent])) == {s["id"] for s in sent}
        statements, _ = store.query(Query(limit=100))
        assert len(statements) == len(sent)
        ada = f"mbox:{ADA['mbox']}"
        assert store.erase([ada]) == {"deleted": len(sent), "redacted": 0}
        assert store.naming([ada]) == []
    finally:
        store.close()


def test_a_statement_stored_by_the_other_replica_between_the_check_and_the_insert_is_decided_again(replicas,
                                                                                                  monkeypatch):
    (a, b), _ = replicas
    sent = statement(id=str(uuid.uuid4()))
    assert a.put("/xapi/statements", params={"statementId": sent["id"]}, json=sent).status_code == 204
    store = b.app.state.xapi.store
    looked = store.get_bodies
    calls = []

    def first_look_misses_it(ids):  # as if replica a's insert had not committed yet when b looked
        calls.append(ids)
        return {} if len(calls) == 1 else looked(ids)

    monkeypatch.setattr(store, "get_bodies", first_look_misses_it)
    assert b.put("/xapi/statements", params={"statementId": sent["id"]}, json=sent).status_code == 204
    changed = statement(id=sent["id"], verb={"id": "http://adlnet.gov/expapi/verbs/failed"})
    calls.clear()
    assert b.put("/xapi/statements", params={"statementId": sent["id"]}, json=changed).status_code == 409
    assert len(calls) == 2  # looked, tried to insert, was refused by the unique id, looked again


def test_replicas_starting_together_make_the_tables_once():
    """Two CREATE TABLEs at once fail on PostgreSQL: the replicas of a deployment start together, and each
    must start (the production-like test once lost a replica so)."""
    with fresh_database(core=False) as url:
        barrier, stores, failures = threading.Barrier(6), [], []

        def start():
            barrier.wait()
            try:
                stores.append(StatementStore(url))
            except Exception as exc:  # noqa: BLE001 - the test reports what failed
                failures.append(exc)

        threads = [threading.Thread(target=start) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == [] and len(stores) == 6
        assert stores[-1].query(Query()) == ([], None), "the tables are there, empty"
        for store in stores:
            store.close()
