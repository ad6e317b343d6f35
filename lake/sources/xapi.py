"""xAPI statements as native events: the lake's view of what a learning record store received.

The actor becomes a pseudonymous learner id (a keyed hash of its inverse functional
identifier), so e-mail addresses and names stay in the LRS and never reach the lake; the
statement itself travels in the event's payload with the actor replaced by that id.
"""

import re
from datetime import UTC, datetime

from lake.privacy import learner_id_for

# xAPI verb IRIs (ADL vocabulary, the video profile) and the native verb each one means.
VERB_MAP = {
    "http://adlnet.gov/expapi/verbs/registered": "registered",
    "http://adlnet.gov/expapi/verbs/experienced": "viewed",
    "http://id.tincanapi.com/verb/viewed": "viewed",
    "http://activitystrea.ms/schema/1.0/watch": "viewed",
    "http://adlnet.gov/expapi/verbs/launched": "started",
    "http://adlnet.gov/expapi/verbs/initialized": "started",
    "http://adlnet.gov/expapi/verbs/attempted": "started",
    "http://adlnet.gov/expapi/verbs/completed": "completed",
    "http://adlnet.gov/expapi/verbs/passed": "completed",
    "http://adlnet.gov/expapi/verbs/failed": "completed",
    "http://adlnet.gov/expapi/verbs/answered": "answered",
    "https://w3id.org/xapi/video/verbs/played": "played",
    "https://w3id.org/xapi/video/verbs/paused": "paused",
    "http://id.tincanapi.com/verb/searched": "searched",
    "http://adlnet.gov/expapi/verbs/asked": "asked",
}
# Activity type IRIs whose last segment is not the native content type.
TYPE_MAP = {"media": "video", "assessment": "quiz", "question": "question", "interaction": "question",
            "module": "module", "course": "course", "lesson": "lesson", "video": "video", "quiz": "quiz",
            "assignment": "assignment"}


def _duration_s(duration: str | None) -> float | None:
    if not duration:
        return None
    match = re.match(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$",
                     duration)
    if not match:
        return None
    y, mo, w, d, h, mi, s = (float(g) if g else 0.0 for g in match.groups())
    return ((((y * 365 + mo * 30 + w * 7 + d) * 24 + h) * 60 + mi) * 60) + s


def pseudonymous_actor(learner_id: str) -> dict:
    return {"objectType": "Agent", "account": {"homePage": "urn:learnlake:learner", "name": learner_id}}


def statement_to_event(statement: dict, *, actor_key: str, pseudonym_key: str) -> dict:
    """The native event of a stored statement (its id, stored and timestamp filled in)."""
    learner_id = learner_id_for(actor_key, pseudonym_key)
    obj = statement["object"]
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        type_iri = ((obj.get("definition") or {}).get("type") or "").rstrip("/")
        kind = TYPE_MAP.get(type_iri.rsplit("/", 1)[-1], "activity") if type_iri else "activity"
        object_id = obj["id"]
    else:
        kind, object_id = object_type.lower(), obj.get("id") or "agent"
    context = statement.get("context") or {}
    parents = (context.get("contextActivities") or {}).get("parent") or []
    grouping = (context.get("contextActivities") or {}).get("grouping") or []
    result = statement.get("result") or {}
    scaled = (result.get("score") or {}).get("scaled")
    event_result = {
        "score": scaled if scaled is not None and scaled >= 0 else None,
        "success": result.get("success"),
        "completion": result.get("completion"),
        "duration_s": _duration_s(result.get("duration")),
        "response": result.get("response"),
    }
    timestamp = datetime.fromisoformat(statement["timestamp"])
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    return {
        "event_id": statement["id"],
        "learner_id": learner_id,
        "verb": VERB_MAP.get(statement["verb"]["id"], "other"),
        "object": {
            "type": kind,
            "id": object_id,
            "course_id": (grouping or parents or [{}])[0].get("id"),
            "module_id": parents[0]["id"] if parents and grouping else None,
        },
        "result": {k: v for k, v in event_result.items() if v is not None},
        "context": {k: v for k, v in (("platform", context.get("platform")),
                                      ("registration", context.get("registration"))) if v is not None},
        "timestamp": timestamp.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "schema_version": 1,
        "xapi": {**statement, "actor": pseudonymous_actor(learner_id), "authority": None},
    }
