"""The native event's validation: the quick path for batches of known fields must never accept what
the full rules refuse, however the JSON is written."""

import json
import uuid

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from lake.events import (
    EVENT_LIST,
    KNOWN_FIELDS_LIST,
    KNOWN_FIELDS_MAX_BYTES,
    MAX_EVENT_DEPTH,
    _only_known_fields,
    check_batch,
)
from learnlake.json_bounds import json_depth


def _event(**changes) -> dict:
    return {"event_id": str(uuid.uuid4()), "learner_id": "lrn_a", "verb": "answered",
            "object": {"type": "quiz", "id": "q-1", "course_id": "c-1", "module_id": "m-1"},
            "result": {"score": 0.5, "success": True, "completion": True, "duration_s": 3.0, "response": "b"},
            "context": {"platform": "web", "session_id": "s", "registration": "r"},
            "timestamp": "2026-09-07T10:15:00Z", "schema_version": 1, **changes}


def test_the_largest_event_of_known_fields_is_under_the_bound_that_skips_measuring():
    wide = "\U0001F600"  # four bytes in UTF-8: the most a character takes as stored
    biggest = _event(event_id="A" * 8 + "-" + "A" * 4 + "-" + "A" * 4 + "-" + "A" * 4 + "-" + "A" * 12,
                     learner_id=wide * 256, verb="registered",
                     object={key: wide * 256 for key in ("type", "id", "course_id", "module_id")},
                     result={"score": 0.123456789012345, "success": False, "completion": False,
                             "duration_s": 1.7976931348623157e308, "response": wide * 10_000},
                     context={key: wide * 256 for key in ("platform", "session_id", "registration")},
                     timestamp="2026-09-07T10:15:00.123456+05:30")
    assert KNOWN_FIELDS_LIST.validate_json(orjson.dumps([biggest]))
    assert len(orjson.dumps(biggest)) <= KNOWN_FIELDS_MAX_BYTES


def test_known_fields_written_any_way_are_recognised_as_such():
    batch = [_event(), _event(result={"response": 'he wrote "x": 1, then " :"'})]
    compact = orjson.dumps(batch)
    assert _only_known_fields(compact, KNOWN_FIELDS_LIST.validate_json(compact)) is False  # `":` in a string
    plain = orjson.dumps([_event(), _event()])
    assert _only_known_fields(plain, KNOWN_FIELDS_LIST.validate_json(plain)) is True
    pretty = json.dumps([_event()], indent=2).encode()  # whitespace before no colon, after each
    assert _only_known_fields(pretty, KNOWN_FIELDS_LIST.validate_json(pretty)) is True
    spaced = json.dumps([_event()], separators=(", ", " : ")).encode()
    assert _only_known_fields(spaced, KNOWN_FIELDS_LIST.validate_json(spaced)) is False  # cannot tell: full rules


def test_added_fields_are_held_to_their_rules_wherever_they_sit_and_however_the_json_is_spaced():
    bad = {"top": ('"note"', "NaN"), "object": ('"object"', '{"type": "quiz", "id": "q", "extra": NaN}'),
           "deep": ('"device"', '{"a": {"b": {"c": 1}}}'), "huge": ('"n"', "1" + "0" * 400)}
    for name, (key, value) in bad.items():
        for colon in (":", " : ", "\n:"):
            if key == '"object"':
                body = orjson.dumps([_event()]).replace(b'"object":{"type":"quiz","id":"q-1","course_id":"c-1",'
                                                        b'"module_id":"m-1"}', f"{key}{colon}{value}".encode())
            else:
                body = orjson.dumps([_event()])[:-2] + f", {key}{colon}{value}}}]".encode()
            check = check_batch(body, 10)
            assert check.ids is None and check.problem in ("invalid", "malformed"), (name, colon, check)
        good = orjson.dumps([_event(note="fine", device={"os": "ios", "sizes": [1, 2]})])
        assert check_batch(good, 10).ids is not None


json_leaves = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12)
json_values = st.recursive(json_leaves, lambda inner: st.lists(inner, max_size=3) |
                           st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)


@st.composite
def written_batches(draw) -> bytes:
    """A batch of events bent by hypothesis, written compactly, pretty or with spaced colons."""
    events = []
    for _ in range(draw(st.integers(1, 4))):
        event = _event()
        for _ in range(draw(st.integers(0, 3))):
            where = draw(st.sampled_from([None, "object", "result", "context"]))
            target = event if where is None else event[where]
            target[draw(st.text(min_size=1, max_size=8) | st.sampled_from(["score", "verb", "id", "type"]))] = \
                draw(json_values)
        events.append(event)
    style = draw(st.sampled_from([{}, {"indent": 1}, {"separators": (",", " : ")}, {"separators": (",", ":")}]))
    return json.dumps(events, **style).encode()  # NaN, Infinity and huge integers written as Python writes them


@settings(max_examples=300, deadline=None, database=None)
@given(body=written_batches())
def test_the_quick_path_accepts_exactly_what_the_full_rules_accept(body):
    check = check_batch(body, 10, 10**9)
    try:
        full = EVENT_LIST.validate_json(body)
    except Exception:  # noqa: BLE001 - any refusal of the full rules
        full = None
    assert (check.ids is not None) == (full is not None), (body[:300], check)
    if check.ids is not None:
        assert json_depth(orjson.loads(body), limit=64) <= MAX_EVENT_DEPTH
