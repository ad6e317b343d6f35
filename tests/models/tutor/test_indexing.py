"""`learnlake tutor index`: the lake's course content (bronze.core_content_items, a real Delta
table) into the Qdrant index on disk, re-embedding only what changed."""

import json
from datetime import UTC, datetime

import pyarrow as pa
from qdrant_client import QdrantClient
from typer.testing import CliRunner

from lake import schemas, writers
from models.tutor import published
from models.tutor.index import TutorIndex
from models.tutor.retrieval import Retriever

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _item(item_id, course_id, title, body, *, content_type="lesson", source=None):
    return {"item_id": item_id, "module_id": f"{course_id}-m1", "course_id": course_id, "position": int(item_id[-1]),
            "content_type": content_type, "title": title, "body": body, "url": None, "skills": [], "difficulty": None,
            "estimated_minutes": 5, "prerequisites": [], "source": json.dumps(source) if source else None,
            "created_at": NOW, "updated_at": NOW}


def _write(rows, **kwargs):
    writers.merge("bronze.core_content_items", pa.Table.from_pylist(rows, schema=schemas.CORE_CONTENT_ITEMS), **kwargs)


def _index(cli_app):
    result = CliRunner().invoke(cli_app, ["tutor", "index", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_index_follows_the_lake_content(learnlake_home):
    from learnlake.cli import app

    assert _index(app) == {}  # no content yet: nothing to index, no error
    strings = _item("i1", "c1", "Strings", "# Strings\n\n## Slicing\n\nA slice s[1:3] copies part of a string.",
                    source={"kind": "openstax-cnxml", "module": "m00042", "path": "modules/m00042/index.cnxml"})
    lists = _item("i2", "c1", "Lists", "# Lists\n\nA list holds items in order; append adds one at the end.")
    video = _item("i3", "c1", "A video", None, content_type="video")
    other = _item("i4", "c2", "Dictionaries", "# Dictionaries\n\nA dictionary maps keys to values.")
    _write([strings, lists, video, other])
    first = _index(app)
    assert first == {"c1": {"added": 2, "updated": 0, "removed": 0, "unchanged": 0},
                     "c2": {"added": 1, "updated": 0, "removed": 0, "unchanged": 0}}
    assert published.latest_version(learnlake_home) == 1  # published once content came (0: the empty index)
    assert _index(app)["c1"] == {"added": 0, "updated": 0, "removed": 0, "unchanged": 2}
    assert published.latest_version(learnlake_home) == 1  # nothing changed: no new snapshot

    _write([{**lists, "body": "# Lists\n\nA list holds items in order; insert puts one anywhere."}],
           delete_keys=["i4"])
    third = _index(app)
    assert third["c1"] == {"added": 0, "updated": 1, "removed": 0, "unchanged": 1}
    assert third["c2"] == {"added": 0, "updated": 0, "removed": 1, "unchanged": 0}
    assert published.latest_version(learnlake_home) == 2

    asked = CliRunner().invoke(app, ["tutor", "ask", "How do I take part of a string?", "--course-id", "c1", "--json"])
    assert asked.exit_code == 0, asked.output
    answer = json.loads(asked.stdout.strip().splitlines()[-1])
    assert answer["grounded"] and answer["generator"] == "extractive"
    assert answer["citations"][0]["location"] == "modules/m00042/index.cnxml#Slicing"
    unknown = CliRunner().invoke(app, ["tutor", "ask", "Who won the 1998 World Cup?", "--course-id", "c1", "--json"])
    assert not json.loads(unknown.stdout.strip().splitlines()[-1])["grounded"]

    client = QdrantClient(path=str(learnlake_home.qdrant_path))
    try:
        retriever = Retriever(TutorIndex(client))
        [best] = retriever.search("c1", "how do I put an item in the middle of a list", k=1)
        assert "insert" in best.chunk.text and best.chunk.document_id == "i2"
        [cited] = retriever.search("c1", "slice of a string", k=1, mode="bm25")
        assert cited.chunk.location == "modules/m00042/index.cnxml#Slicing"
        assert retriever.search("c2", "dictionary keys", k=5) == []
        # Local mode serves one process: another one gets a clear error, not a traceback.
        busy = CliRunner().invoke(app, ["tutor", "index"])
        assert busy.exit_code == 1 and "another process" in busy.output
        # The API replicas read published snapshots, never the working index this process holds open; each
        # snapshot is immutable, the newest has the edit and the one before still reads as it was.
        for version, word in ((2, "insert"), (1, "append")):
            chunks = published.load(learnlake_home, version).course_chunks("c1")
            assert any(word in c.text for c in chunks) and {c.document_id for c in chunks} == {"i1", "i2"}
        assert published.load(learnlake_home, 2).course_chunks("c2") == []
    finally:
        client.close()
