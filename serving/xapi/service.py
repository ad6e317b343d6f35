"""What the Statement Resource does with statements, apart from HTTP: validate, complete, store."""

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from pydantic import ValidationError

from lake.landing import LandingLog
from lake.sources.xapi import statement_to_event
from lake.statement_store import StatementIdTaken, StatementStore, StoredStatement
from learnlake.logging import request_id
from serving.telemetry.metrics import INGEST_EVENTS, INGEST_REJECTED, XAPI_STATEMENTS, verb_label
from serving.xapi.errors import XapiError
from serving.xapi.models import VOIDED, Activity, Agent, Group, Statement, StatementRef, SubStatement
from serving.xapi.signatures import check_signatures

LRS_SET = ("stored", "authority", "version")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def validation_message(exc: ValidationError, index: int | None = None) -> str:
    where = "" if index is None else f"statement {index}: "
    parts = [f"{'.'.join(map(str, e['loc'])) or 'statement'}: {e['msg']}" for e in exc.errors(include_url=False)[:5]]
    return where + "; ".join(parts)


def parse(raw: object, index: int | None = None, version: str = "1.0.3") -> Statement:
    """A statement as the client's xAPI ``version`` defines it; XapiError(400) with the reason otherwise."""
    where = "" if index is None else f"statement {index}: "
    if not isinstance(raw, dict):
        raise XapiError(400, f"{where}a statement must be a JSON object")
    dumped = orjson.dumps(raw)
    if b"null" in dumped and (null := _null_property(raw)) is not None:  # the walk only when it may find one
        raise XapiError(400, f"{where}{null}: a property may be absent, never null")
    try:
        return Statement.model_validate_json(dumped, context={"version": version})
    except ValidationError as exc:
        raise XapiError(400, validation_message(exc, index)) from None


def _null_property(value: object, path: str = "") -> str | None:
    """The path of the first property set to null (extension values are the client's own and may be)."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if item is None:
            return where
        if key != "extensions" and (found := _null_property(item, where)) is not None:
            return found
    return None


def _dump(model) -> dict:
    return orjson.loads(model.model_dump_json(by_alias=True, exclude_none=True))


def _same(incoming: dict, stored: dict) -> bool:
    """Statement comparison: equal apart from what the LRS sets."""
    return {k: v for k, v in incoming.items() if k not in LRS_SET} == \
        {k: v for k, v in stored.items() if k not in LRS_SET}


def _activities(statement: Statement) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    if isinstance(statement.object, Activity):
        found.append((statement.object.id, True))
    if isinstance(statement.object, SubStatement) and isinstance(statement.object.object, Activity):
        found.append((statement.object.object.id, False))
    for ctx in (statement.context, statement.object.context if isinstance(statement.object, SubStatement) else None):
        if ctx is not None and ctx.context_activities is not None:
            for group in ("parent", "grouping", "category", "other"):
                found += [(a.id, False) for a in getattr(ctx.context_activities, group) or []]
    return found


def _agents(statement: Statement) -> list[tuple[str, bool]]:
    found = [(key, True) for key in statement.actor_keys()]
    if isinstance(statement.object, Agent | Group) and statement.object.ifi_key():
        found.append((statement.object.ifi_key(), True))
    related = []
    if statement.context is not None:
        related += [statement.context.instructor, statement.context.team]
        related += [c.agent for c in statement.context.context_agents or []]
        related += [c.group for c in statement.context.context_groups or []]
    if isinstance(statement.object, SubStatement):
        related.append(statement.object.actor)
        if isinstance(statement.object.object, Agent | Group):
            related.append(statement.object.object)
    if statement.authority is not None:
        related.append(statement.authority)
    found += [(actor.ifi_key(), False) for actor in related if actor is not None and actor.ifi_key()]
    return found


def _definitions(body: dict) -> list[tuple[str, dict]]:
    """(activity id, definition) of every activity the statement defines: its object, a SubStatement's
    object, and the context activities, which the Activities Resource merges into what it knows."""
    found = []
    for holder in (body, body.get("object") if body["object"].get("objectType") == "SubStatement" else None):
        if holder is None:
            continue
        obj = holder.get("object") or {}
        if obj.get("objectType", "Activity") == "Activity" and obj.get("definition"):
            found.append((obj["id"], obj["definition"]))
        for group in ((holder.get("context") or {}).get("contextActivities") or {}).values():
            found += [(a["id"], a["definition"]) for a in group if a.get("definition")]
    return found


@dataclass
class StatementResource:
    store: StatementStore
    landing: LandingLog
    pseudonym_key: str
    home_page: str  # the LRS's address: the authority of a statement is the source account under it
    # One save at a time: the id checks and the insert must see the same store, and
    # `stored` times must follow insertion order (queries page by it).
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def save(self, raws: list, *, source: str, statement_id: str | None = None,
             attachments: dict[str, tuple[str, bytes]] | None = None, version: str = "1.0.3") -> list[str]:
        """Validate, complete and store statements (and the contents of their attachments),
        all or none; returns their ids. ``source`` is the name of the key they came with. Counted in
        ``/metrics``: statements stored (by verb), replays, refusals (by status)."""
        try:
            return self._validate_and_save(raws, source=source, statement_id=statement_id, attachments=attachments,
                                           version=version)
        except XapiError as exc:
            INGEST_REJECTED.labels("xapi", str(exc.status)).inc()
            raise

    def _validate_and_save(self, raws: list, *, source: str, statement_id: str | None,
                           attachments: dict[str, tuple[str, bytes]] | None, version: str) -> list[str]:
        parsed = [parse(raw, None if statement_id else i, version) for i, raw in enumerate(raws)]
        attachments = attachments or {}
        for i, raw in enumerate(raws):
            check_signatures(raw, attachments, "" if statement_id else f"statement {i}: ")
        needed = {sha2 for statement in parsed for sha2 in statement.attachment_hashes()}
        if missing := needed - set(attachments):
            raise XapiError(400, f"no multipart part carries the attachment(s) with sha2 {sorted(missing)}")
        if extra := set(attachments) - needed:
            raise XapiError(400, f"multipart part(s) {sorted(extra)} match no attachment of the statements")
        with self._lock:
            try:
                return self._save(parsed, statement_id, attachments, source, version)
            except StatementIdTaken:  # another API replica stored one of these ids meanwhile: decide again
                return self._save(parsed, statement_id, attachments, source, version)

    def _save(self, parsed: list[Statement], statement_id: str | None,
              attachments: dict[str, tuple[str, bytes]], source: str, version: str) -> list[str]:
        authority = {"objectType": "Agent", "account": {"homePage": self.home_page, "name": source}}
        if statement_id is not None:
            if parsed[0].id is not None and str(parsed[0].id) != statement_id:
                raise XapiError(400, "statementId does not match the statement's id")
            parsed[0].id = uuid.UUID(statement_id)
        for statement in parsed:
            statement.id = statement.id or uuid.uuid4()
        ids = [str(s.id) for s in parsed]
        if len(set(ids)) != len(ids):
            raise XapiError(400, "the same statement id appears twice in the batch")

        existing = self.store.get_bodies(ids)
        stored_at = now_iso()
        new: list[tuple[Statement, dict]] = []
        for statement in parsed:
            body = _dump(statement)
            if str(statement.id) in existing:
                if not _same(body, existing[str(statement.id)]):
                    raise XapiError(409, f"statement {statement.id} exists with different content")
                continue  # the same statement again: nothing to do
            body.setdefault("timestamp", stored_at)
            body["stored"] = stored_at
            body.setdefault("authority", authority)
            body["version"] = body.get("version", "2.0.0" if version.startswith("2.") else "1.0.0")
            new.append((statement, body))

        batch_ids = {str(s.id): s for s, _ in new}
        for statement, _ in new:
            if statement.verb.id == VOIDED:
                target = str(statement.object.id) if isinstance(statement.object, StatementRef) else None
                if target and (self.store.is_voiding(target)
                               or (target in batch_ids and batch_ids[target].verb.id == VOIDED)):
                    raise XapiError(400, "a voiding statement cannot void another voiding statement")
        INGEST_EVENTS.labels("xapi", "duplicate").inc(len(parsed) - len(new))
        if not new:
            return ids

        events = [statement_to_event(body, actor_key=s.actor_keys()[0] if s.actor_keys() else "anonymous-group",
                                     pseudonym_key=self.pseudonym_key) for s, body in new]
        # The lake first: if the store then fails, the client retries and the landing log
        # recognises the ids; the other way round a crash would leave the lake without them.
        self.landing.append([e["event_id"] for e in events], orjson.dumps(events), source="xapi", source_key=source,
                            request_id=request_id.get())
        self.store.insert([
            StoredStatement(
                id=str(s.id), stored=stored_at, verb_id=s.verb.id,
                registration=str(s.context.registration) if s.context and s.context.registration else None,
                voiding_target=str(s.object.id) if s.verb.id == VOIDED else None,
                agents=_agents(s), activities=_activities(s), body=body, definitions=_definitions(body))
            for s, body in new
        ], attachments)
        for statement, _ in new:
            XAPI_STATEMENTS.labels(verb_label(statement.verb.id)).inc()
        INGEST_EVENTS.labels("xapi", "stored").inc(len(new))
        return ids
