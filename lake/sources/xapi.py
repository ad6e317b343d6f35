"""xAPI statements as native events: the lake's view of what a learning record store received.

The actor becomes a pseudonymous learner id (a keyed hash of its inverse functional
identifier). So does every other person a statement names: the object when it is an Agent or
a Group, the context's instructor and team, the authority, a Group's members, all of them
again inside a SubStatement; their names are dropped. E-mail addresses, OpenIDs, account
names and mbox hashes stay in the LRS's own store, and the statement travels in the event's
payload with each person replaced by their pseudonym.
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
    "http://id.tincanapi.com/verb/rated": "rated",
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


PSEUDONYM_HOME_PAGE = "urn:learnlake:learner"
AGENT_TYPES = ("Agent", "Group")


def ifi_key(agent: dict) -> str | None:
    """A canonical string of an Agent's or Group's inverse functional identifier (None: an anonymous group)."""
    if agent.get("mbox"):
        return f"mbox:{agent['mbox'].lower()}"
    if agent.get("mbox_sha1sum"):
        return f"mbox_sha1sum:{agent['mbox_sha1sum'].lower()}"
    if agent.get("openid"):
        return f"openid:{agent['openid']}"
    if account := agent.get("account"):
        return f"account:{account.get('homePage')}|{account.get('name')}"
    return None


# What an erased person becomes in the statements that name them (lake.statement_store.erase).
VOIDED = "http://adlnet.gov/expapi/verbs/voided"  # the verb of a statement that voids another
ERASED_AGENT = {"objectType": "Agent", "account": {"homePage": "urn:learnlake:erased", "name": "erased"}}


def pseudonymous_agent(agent: dict, pseudonym_key: str) -> dict:
    """An Agent or Group with its identifier replaced by a pseudonymous account, its name dropped."""
    found = {"objectType": agent.get("objectType", "Agent")}
    if (key := ifi_key(agent)) is not None:
        found["account"] = {"homePage": PSEUDONYM_HOME_PAGE, "name": learner_id_for(key, pseudonym_key)}
    return found


def pseudonymous_statement(statement: dict, pseudonym_key: str) -> dict:
    """``statement`` with every person it names pseudonymised."""
    return map_people(statement, lambda agent: pseudonymous_agent(agent, pseudonym_key))


def map_people(statement: dict, change) -> dict:
    """``statement`` (or a SubStatement) with ``change`` applied to every person it names: the actor, the
    authority, an Agent or Group object, the context's instructor, team, context agents and groups (xAPI
    2.0), each member of a Group."""
    found = dict(statement)
    for field in ("actor", "authority"):
        if isinstance(found.get(field), dict):
            found[field] = _person(found[field], change)
    obj = found.get("object")
    if isinstance(obj, dict) and obj.get("objectType") in AGENT_TYPES:
        found["object"] = _person(obj, change)
    elif isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        found["object"] = map_people(obj, change)
    if isinstance(found.get("context"), dict):
        context = found["context"] = dict(found["context"])
        for field in ("instructor", "team"):
            if isinstance(context.get(field), dict):
                context[field] = _person(context[field], change)
        for field, inner in (("contextAgents", "agent"), ("contextGroups", "group")):  # xAPI 2.0
            if isinstance(context.get(field), list):
                context[field] = [{**item, inner: _person(item[inner], change)}
                                  if isinstance(item, dict) and isinstance(item.get(inner), dict) else item
                                  for item in context[field]]
    return found


def _person(agent: dict, change) -> dict:
    found = dict(change(agent))
    if agent.get("member"):
        found["member"] = [_person(member, change) for member in agent["member"]]
    return found


def _utc_text(timestamp: str) -> str:
    """An ISO 8601 timestamp in UTC (``Z``); one Python cannot move to UTC (year 1 at +01:00) is kept as
    sent, for the committer to refuse: the LRS keeps any date the specification allows, the lake does not."""
    parsed = datetime.fromisoformat(timestamp)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")
    except OverflowError:
        return timestamp


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
        "timestamp": _utc_text(statement["timestamp"]),
        "schema_version": 1,
        "xapi": pseudonymous_statement(statement, pseudonym_key),
    }
