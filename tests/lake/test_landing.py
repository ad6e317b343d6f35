import orjson
import pytest

from lake.landing import HEADER, LandingLog, LandingLogCorrupt


def _body(ids):
    return orjson.dumps([{"event_id": i} for i in ids])


def test_batches_come_back_in_order_with_their_bytes(tmp_path):
    log = LandingLog(tmp_path / "w", "w")
    assert log.append(["a", "b"], _body(["a", "b"]), source="api") == 2
    assert log.append(["c"], _body(["c"]), source="xapi", received_at_us=123) == 1
    batches = log.read_after(0, 100)
    assert [b.seq for b in batches] == [1, 2]
    assert batches[0].ids == ["a", "b"] and batches[0].body == _body(["a", "b"])
    assert (batches[1].source, batches[1].received_at_us) == ("xapi", 123)
    assert [b.seq for b in log.read_after(1, 100)] == [2]
    assert log.read_after(2, 100) == []


def test_replayed_ids_are_acknowledged_but_not_landed_again(tmp_path):
    log = LandingLog(tmp_path / "w", "w")
    log.append(["a", "b"], _body(["a", "b"]), source="api")
    assert log.append(["a", "b"], _body(["a", "b"]), source="api") == 0
    assert log.last_seq() == 1  # nothing written for a full replay
    assert log.append(["b", "c"], _body(["b", "c"]), source="api") == 1
    second = log.read_after(1, 100)[0]
    assert second.ids == ["c"] and second.skip == [0]
    # Replays are still recognised after a restart.
    log.close()
    reopened = LandingLog(tmp_path / "w", "w")
    assert reopened.append(["a", "c"], _body(["a", "c"]), source="api") == 0
    assert reopened.last_seq() == 2


def test_a_torn_last_record_is_cut_off_on_reopening(tmp_path):
    log = LandingLog(tmp_path / "w", "w")
    log.append(["a"], _body(["a"]), source="api")
    log.append(["b"], _body(["b"]), source="api")
    log.close()
    segment = log.segments()[-1]
    data = segment.read_bytes()
    segment.write_bytes(data[:-7])  # a crash in the middle of writing the second record
    reader = LandingLog(tmp_path / "w", "w", readonly=True)
    assert [b.seq for b in reader.read_after(0, 100)] == [1]  # a reader never truncates
    assert segment.stat().st_size == len(data) - 7
    writer = LandingLog(tmp_path / "w", "w")
    assert segment.stat().st_size < len(data) - 7
    assert writer.last_seq() == 1
    assert writer.append(["b"], _body(["b"]), source="api") == 1  # "b" was never acknowledged
    assert [b.ids for b in writer.read_after(0, 100)] == [["a"], ["b"]]


def test_damage_before_the_last_segment_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr("lake.landing.SEGMENT_BYTES", HEADER.size + 60)  # one record per segment
    log = LandingLog(tmp_path / "w", "w")
    for name in "abc":
        log.append([name], _body([name]), source="api")
    log.close()
    assert len(log.segments()) == 3
    first = log.segments()[0]
    first.write_bytes(first.read_bytes()[:-3])
    with pytest.raises(LandingLogCorrupt, match="damaged"):
        LandingLog(tmp_path / "w", "w")


def test_segments_rotate_and_prune_only_what_is_committed(tmp_path, monkeypatch):
    monkeypatch.setattr("lake.landing.SEGMENT_BYTES", HEADER.size + 60)
    log = LandingLog(tmp_path / "w", "w")
    for name in "abcd":
        log.append([name], _body([name]), source="api")
    assert len(log.segments()) == 4
    assert [b.seq for b in log.read_after(1, 2)] == [2, 3]  # reading across segments
    log.mark_committed(2)
    assert log.backlog() == 2
    assert log.prune(keep_s=0) == 2
    assert [int(p.stem) for p in log.segments()] == [3, 4]
    assert log.append(["a"], _body(["a"]), source="api") == 1  # pruned ids are forgotten
    assert [b.seq for b in log.read_after(2, 100)] == [3, 4, 5]
