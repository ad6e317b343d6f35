"""Erasing a learner present in every store, on a copy of the small demo: afterwards neither
``learnlake privacy verify`` nor this test's own scan finds anything of them, old Delta versions
included, every other learner's rows are as they were, and the platform serves everyone else."""

import hashlib
import json
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import orjson
import polars as pl
import pyarrow.parquet as pq
import pytest
import redis
from deltalake import DeltaTable
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lake.catalog import TABLES, table_uri
from lake.committer import Committer
from lake.privacy import subject_of
from lake.sources.core_snapshot import snapshot_core_tables
from learnlake.cli import app as cli
from learnlake.settings import get_settings
from pipelines.run import run_privacy_erasure
from serving.main import create_app
from tests.conftest import use_home
from tests.serving.conftest import source_key

pytestmark = pytest.mark.integration
DEMO_PASSWORD = "learnlake-demo"
V = {"X-Experience-API-Version": "1.0.3"}


@pytest.fixture
def erasable(small_demo, tmp_path, monkeypatch, redis_url):
    """A copy of the small demo, served in process, with Redis for rate limits and a zero grace period."""
    source, _ = small_demo
    home = tmp_path / "learnlake"
    shutil.copytree(source.home, home)
    use_home(monkeypatch, source.model_copy(update={"home": home}))
    monkeypatch.setenv("LEARNLAKE_REDIS_URL", redis_url)
    monkeypatch.setenv("LEARNLAKE_ERASURE_GRACE_DAYS", "0")
    get_settings.cache_clear()
    settings = get_settings()
    with TestClient(create_app(settings.model_copy(update={"run_committer": False}))) as client:
        yield client, settings


def _sign_in(client, email: str) -> dict:
    tokens = client.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert tokens.status_code == 200, tokens.text
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


def _put_the_learner_everywhere(client, settings, email: str, learner_id: str) -> None:
    """Native events (some left in the landing log), xAPI statements naming them as actor and as
    instructor, a tutor conversation, a written answer an instructor graded (in the lake too), rate-limit counters
    in Redis: on top of what the demo holds."""
    key = source_key(client.app, "lms")
    headers = _sign_in(client, email)
    course_id = client.get("/api/v1/users/me/enrollments", headers=headers).json()["items"][0]["course_id"]
    asked = client.post("/api/v1/tutor/ask", headers=headers,
                        json={"course_id": course_id, "question": "What is a loop?"})
    assert asked.status_code == 200
    assert client.put(f"/api/v1/tutor/turns/{asked.json()['turn_id']}/rating", headers=headers,
                      json={"helpful": False}).status_code == 200
    with client.app.state.database.read() as session:
        from serving.core.tables import ContentItem

        item_id = session.query(ContentItem.id).filter(ContentItem.course_id == course_id).order_by(ContentItem.id).first()[0]
    items = f"/api/v1/courses/{course_id}/items/{item_id}"
    admin = _sign_in(client, "admin@learnlake.example")
    assert client.put(f"{items}/assessment", headers=admin, json={"reference": "a loop repeats"}).status_code == 200
    # Their written answer and another learner's, each graded by an instructor; the graded ones reach the lake.
    from serving.core.security import issue_access_token
    from serving.core.tables import Enrollment, User

    with client.app.state.database.read() as session:
        other = session.query(Enrollment.user_id).join(User).filter(
            Enrollment.course_id == course_id, User.email != email, User.role == "learner").first()[0]
    other_headers = {"Authorization": f"Bearer {issue_access_token(other, 'learner', settings)}"}
    for who in (headers, other_headers):
        written = client.post(f"{items}/answers", headers=who, json={"answer": "a loop repeats code"})
        assert written.status_code == 201, written.text
        assert client.post(f"/api/v1/courses/{course_id}/review-queue/{written.json()['answer_id']}", headers=admin,
                           json={"score": 1, "comment": "half"}).status_code == 200
    snapshot_core_tables(settings.database_url, settings)
    mbox = {"mbox": f"mailto:{email}", "name": "The Learner"}
    statement = {"verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": "http://example.org/x"}}
    for body in ({**statement, "actor": mbox},
                 {**statement, "actor": {"mbox": "mailto:someone.else@example.org"},
                  "context": {"instructor": mbox}}):
        assert client.post("/xapi/statements", json=body, auth=("lms", key), headers=V).status_code == 200
    state = {"activityId": "http://example.org/x", "agent": json.dumps(mbox), "stateId": "bookmark"}
    assert client.put("/xapi/activities/state", params=state, json={"learner": email, "page": 12},
                      auth=("lms", key), headers=V).status_code == 204
    event = {"event_id": str(uuid.uuid4()), "learner_id": learner_id, "verb": "viewed",
             "object": {"type": "lesson", "id": "lesson-x", "course_id": course_id},
             "timestamp": "2026-10-01T10:00:00Z"}
    bearer = {"Authorization": f"Bearer {key}"}
    assert client.post("/v1/events", json=[event], headers=bearer).status_code == 202
    Committer(client.app.state.landing, settings).flush()
    assert client.post("/v1/events", json=[dict(event, event_id=str(uuid.uuid4()))], headers=bearer).status_code == 202


def _others(settings, pseudonyms: tuple[str, ...]) -> dict[str, tuple[int, set[str], set[str]]]:
    """For each table with learners, the other learners' rows: how many, a hash of each, and the hashes of
    those that do not mention the erased learner (those are redacted, so they change on purpose)."""
    found = {}
    mentions = "|".join(pseudonyms)
    for name, spec in TABLES.items():
        uri = table_uri(name, settings)
        if not spec.person_columns or not DeltaTable.is_deltatable(uri):
            continue
        others = pl.read_delta(uri).filter(
            ~pl.any_horizontal(pl.col(c).is_in(pseudonyms) for c in spec.person_columns))
        untouched = others.filter(~pl.any_horizontal(pl.col(c).cast(pl.String).str.contains(mentions).fill_null(False)
                                                     for c in spec.mention_columns)) if spec.mention_columns else others
        found[name] = (others.height, _row_hashes(others), _row_hashes(untouched))
    with duckdb.connect(str(settings.published_warehouse_path), read_only=True) as con:
        daily = con.sql("select * from marts.fct_learner_daily_activity").pl()
    others = daily.filter(~pl.col("learner_id").is_in(pseudonyms))
    found["marts.fct_learner_daily_activity"] = (others.height, _row_hashes(others), _row_hashes(others))
    return found


def _row_hashes(frame: pl.DataFrame) -> set[str]:
    return {hashlib.sha256(json.dumps(row, default=str, sort_keys=True).encode()).hexdigest()
            for row in frame.iter_rows(named=True)}


def _unchanged(before: dict, after: dict) -> None:
    """The same number of other learners' rows in each table, and each row that did not mention the erased
    learner exactly as it was."""
    assert before.keys() == after.keys()
    for table, (count, _, untouched) in before.items():
        after_count, after_rows, _ = after[table]
        assert after_count == count, table
        assert untouched <= after_rows, f"{table}: {len(untouched - after_rows)} rows of others changed"
        assert untouched, table


def _scan(home: Path, redis_url: str, needles: list[str]) -> list[str]:
    """This test's own look: every file's bytes, every Parquet and DuckDB value, every Redis key and value."""
    raw = [needle.encode() for needle in needles]
    found = []
    for path in (p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".parquet":
            data += str(pq.read_table(path).to_pylist()).encode()
        if path.suffix == ".duckdb":
            with duckdb.connect(str(path), read_only=True) as con:
                for schema, table in con.execute("select table_schema, table_name from information_schema.tables "
                                                 "where table_type = 'BASE TABLE'").fetchall():
                    data += str(con.execute(f'select * from "{schema}"."{table}"').fetchall()).encode()
        found += [f"{path.relative_to(home)}: {needle.decode()}" for needle in raw if needle in data]
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("*"):
        value = client.get(key) if client.type(key) == b"string" else b""
        found += [f"redis {key!r}: {n.decode()}" for n in raw if n in key or n in (value or b"")]
    return found


def _erase_while_others_are_served(client, settings) -> list[dict]:
    """Run the erasure job in a thread while another learner, an instructor and an admin keep reading
    the pages the dashboards call: every answer must be a 200 for the whole run."""
    from serving.core.security import issue_access_token
    from serving.core.tables import Enrollment, User

    with client.app.state.database.read() as session:  # another learner, enrolled (only the first signs in)
        me, course_id = session.query(Enrollment.user_id, Enrollment.course_id).join(User).filter(
            User.email != "learner00001@learnlake.example", User.role == "learner").first()
    learner = {"Authorization": f"Bearer {issue_access_token(me, 'learner', settings)}"}
    instructor, admin = _sign_in(client, "instructor001@learnlake.example"), _sign_in(client, "admin@learnlake.example")
    taught = client.get("/api/v1/courses", headers=instructor).json()["items"][0]["id"]
    pages = [("/api/v1/users/me/enrollments", learner), (f"/api/v1/learners/{me}/recommendations?course_id={course_id}", learner),
             (f"/api/v1/courses/{taught}/at-risk", instructor), ("/api/v1/analytics/platform", admin),
             (f"/api/v1/analytics/courses/{taught}/cohort-report", instructor)]
    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(run_privacy_erasure, persistent=False, settings=settings)
        served = 0
        while not job.done() or served < len(pages):
            path, headers = pages[served % len(pages)]
            answer = client.get(path, headers=headers)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
            served += 1
        assert served > len(pages), "the job ended before the pages were read during it"
        return job.result()


def test_an_erased_learner_is_nowhere_and_everyone_else_is_as_before(erasable, redis_url):
    client, settings = erasable
    email = "learner00001@learnlake.example"
    with client.app.state.database.read() as session:
        from serving.core.tables import User

        user = session.query(User).filter(User.email == email).one()
        subject = subject_of(user.id, user.email, user.name, settings.pseudonym_key.get_secret_value())
    _put_the_learner_everywhere(client, settings, email, subject.pseudonyms[0])
    needles = [subject.user_id, subject.email, subject.name, *subject.pseudonyms]
    before = _scan(settings.home, redis_url, needles)
    stores = {line.split("/")[0].split(":")[0] for line in before}
    assert {"core.db", "lake", "warehouse.duckdb", "published", "online_features.db", "lrs", "landing"} <= stores | {
        s.split(" ")[0] for s in stores}, stores
    assert any(line.startswith("redis") for line in before)
    others_before = _others(settings, subject.pseudonyms)
    headers = _sign_in(client, email)

    answer = client.post("/api/v1/users/me/erasure", json={"password": "not my password"}, headers=headers)
    assert answer.status_code == 403
    answer = client.post("/api/v1/users/me/erasure", json={"password": DEMO_PASSWORD}, headers=headers)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "pending" and "core_database" in answer.json()["stores"]
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401  # the account is gone at once

    # An event of theirs that lands after the erasure (a replay, an offline client) is never committed.
    late = {"event_id": str(uuid.uuid4()), "learner_id": subject.pseudonyms[0], "verb": "viewed",
            "object": {"type": "lesson", "id": "late"}, "timestamp": "2026-10-02T10:00:00Z"}
    key = source_key(client.app, "late-client")
    assert client.post("/v1/events", json=[late], headers={"Authorization": f"Bearer {key}"}).status_code == 202

    results = _erase_while_others_are_served(client, settings)
    assert [r["done"] for r in results] == [True], results

    verify = CliRunner().invoke(cli, ["privacy", "verify", email, "--json"])
    assert verify.exit_code == 0, verify.output
    assert json.loads(verify.output.strip().splitlines()[-1])["remains"] == []
    assert _scan(settings.home, redis_url, needles) == []
    _unchanged(others_before, _others(settings, subject.pseudonyms))

    # Erasing again changes nothing; nobody is 404; everyone else is served as before.
    admin = _sign_in(client, "admin@learnlake.example")
    again = client.post(f"/api/v1/admin/users/{subject.user_id}/erasure", headers=admin)
    assert again.status_code == 202 and again.json()["id"] == answer.json()["id"] and again.json()["status"] == "done"
    assert client.post("/api/v1/admin/users/nobody/erasure", headers=admin).status_code == 404
    instructor = _sign_in(client, "instructor001@learnlake.example")
    course_id = client.get("/api/v1/courses", headers=instructor).json()["items"][0]["id"]
    at_risk = client.get(f"/api/v1/courses/{course_id}/at-risk", headers=instructor)
    assert at_risk.status_code == 200 and subject.pseudonyms[0] not in at_risk.text
    assert client.get("/api/v1/analytics/platform", headers=admin).status_code == 200


def test_the_training_frame_after_an_erasure_has_no_row_of_the_learner(erasable):
    from feature_store.labels import dropout_weeks
    from feature_store.offline import training_frame
    from models.dropout.training import SERVICE

    client, settings = erasable
    email = "learner00001@learnlake.example"
    admin = _sign_in(client, "admin@learnlake.example")
    with client.app.state.database.read() as session:
        from serving.core.tables import User

        user = session.query(User).filter(User.email == email).one()
        pseudonym = subject_of(user.id, user.email, user.name, settings.pseudonym_key.get_secret_value()).pseudonyms[0]
    with duckdb.connect(str(settings.published_warehouse_path), read_only=True) as con:
        assert pseudonym in set(training_frame(con, dropout_weeks(con, 14), SERVICE)["learner_id"])
    assert client.post(f"/api/v1/admin/users/{user.id}/erasure", headers=admin).status_code == 202
    run_privacy_erasure(persistent=False, settings=settings)
    with duckdb.connect(str(settings.published_warehouse_path), read_only=True) as con:
        frame = training_frame(con, dropout_weeks(con, 14), SERVICE)
    assert frame.height > 0 and pseudonym not in set(frame["learner_id"])


def test_an_instructor_who_owns_courses_is_not_erased_until_they_are_given_away(erasable):
    client, _ = erasable
    admin = _sign_in(client, "admin@learnlake.example")
    courses = client.get("/api/v1/courses", headers=admin).json()["items"]
    refused = client.post(f"/api/v1/admin/users/{courses[0]['instructor_id']}/erasure", headers=admin)
    assert refused.status_code == 409 and "owns" in refused.json()["detail"]
    assert orjson.loads(client.get("/api/v1/users/me", headers=admin).content)["role"] == "admin"


def test_an_export_holds_everything_of_the_learner_and_nothing_of_anyone_else(erasable):
    import io
    import zipfile

    from lake.readers import read_table

    client, settings = erasable
    email = "learner00001@learnlake.example"
    with client.app.state.database.read() as session:
        from serving.core.tables import User

        user = session.query(User).filter(User.email == email).one()
        subject = subject_of(user.id, user.email, user.name, settings.pseudonym_key.get_secret_value())
        someone_else = session.query(User).filter(User.email == "learner00002@learnlake.example").one()
    _put_the_learner_everywhere(client, settings, email, subject.pseudonyms[0])
    Committer(client.app.state.landing, settings).flush()
    headers = _sign_in(client, email)

    answer = client.get("/api/v1/users/me/export", headers=headers)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    files = {name: archive.read(name).decode() for name in archive.namelist()}
    assert set(files) == {"README.md", "profile.json", "enrollments.json", "events.json", "xapi_statements.json",
                          "xapi_documents.json", "models.json", "tutor_conversations.json", "written_answers.json"}
    documents = {name: json.loads(text) for name, text in files.items() if name.endswith(".json")}
    assert documents["profile.json"]["email"] == email
    lake_rows = read_table("bronze.events", settings=settings).filter(pl.col("learner_id").is_in(subject.pseudonyms))
    assert len(documents["events.json"]) == lake_rows.height > 100
    assert {e["learner_id"] for e in documents["events.json"]} <= set(subject.pseudonyms)
    assert len(documents["xapi_statements.json"]) == 2  # as actor, and as someone else's instructor
    [bookmark] = documents["xapi_documents.json"]
    assert bookmark["resource"] == "state" and bookmark["content"] == {"learner": email, "page": 12}
    assert documents["enrollments.json"] and documents["enrollments.json"][0]["progress"]
    [turn] = documents["tutor_conversations.json"]
    assert turn["question"] == "What is a loop?" and turn["helpful"] is False and turn["rated_at"]
    [written] = documents["written_answers.json"]
    assert written["answer"] == "a loop repeats code" and written["score"] == 2 and written["feedback"]["text"]
    models = documents["models.json"]
    assert models["mastery"].get("skills") or "unavailable" in models["mastery"]
    course = next(iter(models["courses"].values()))
    assert "dropout_risk" in course and "recommendations" in course
    other = subject_of(someone_else.id, someone_else.email, someone_else.name,
                       settings.pseudonym_key.get_secret_value())
    everything = "\n".join(files.values())
    assert not any(needle in everything for needle in (someone_else.id, someone_else.email, *other.pseudonyms))

    instructor = _sign_in(client, "instructor001@learnlake.example")
    admin = _sign_in(client, "admin@learnlake.example")
    assert client.get(f"/api/v1/admin/users/{user.id}/export", headers=instructor).status_code == 403
    assert client.get(f"/api/v1/admin/users/{user.id}/export", headers=headers).status_code == 403
    assert client.get("/api/v1/admin/users/nobody/export", headers=admin).status_code == 404
    by_admin = client.get(f"/api/v1/admin/users/{user.id}/export", headers=admin)
    assert by_admin.status_code == 200
    audit = client.get("/api/v1/admin/audit", params={"learner_id": user.id, "action": "export"}, headers=admin)
    assert audit.json()["total"] == 1  # the admin's export is on record; the learner's own is not


def test_old_versions_go_only_when_the_grace_period_has_passed(erasable):
    import time

    from pipelines.defs.privacy.erasure import carry_out_erasures

    client, settings = erasable
    grace_s = 10  # longer than the job's other steps take after the lake's
    settings = settings.model_copy(update={"erasure_grace_days": grace_s / 86_400})
    admin = _sign_in(client, "admin@learnlake.example")
    with client.app.state.database.read() as session:
        from serving.core.tables import User

        user = session.query(User).filter(User.email == "learner00001@learnlake.example").one()
    assert client.post(f"/api/v1/admin/users/{user.id}/erasure", headers=admin).status_code == 202
    (first,) = carry_out_erasures(settings, strip_wait_s=30)
    assert not first["done"] and "lake" in first["stores"] and "lake_history" not in first["stores"]
    verify = CliRunner().invoke(cli, ["privacy", "verify", user.id, "--json"])
    assert verify.exit_code == 1  # the old Delta versions still hold them: that is what the grace period is
    remains = {r["store"] for r in json.loads(verify.output.strip().splitlines()[-1])["remains"]}
    # ...and the erasure's own record keeps the clear pseudonyms it still needs, until it is done.
    assert "lake (Delta)" in remains and remains <= {"lake (Delta)", "core.db"}
    time.sleep(grace_s + 0.5)
    (late,) = carry_out_erasures(settings)
    assert late["done"] and "lake_history" in late["stores"]
    after = CliRunner().invoke(cli, ["privacy", "verify", user.id, "--json"])
    assert after.exit_code == 0, after.output[-3000:]
