"""The LRS's document resources (xAPI part three, 2.3 to 2.7): State, Activity Profile, Agent Profile.

A document is whatever bytes a learning tool stores (a SCORM bookmark, cmi5 suspend data, an
authoring tool's settings), kept with its content type in the core database. Writes follow the
specification's concurrency rules: every document has an ETag (the SHA-1 of its content);
``If-Match`` and ``If-None-Match`` are honoured on PUT, POST and DELETE (412 when they fail); a PUT
over an existing document with neither header is a 409 where the resource requires it. POST merges
JSON objects one level deep; anything else it cannot merge is a 400.
"""

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import orjson
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from serving.core.db import Database
from serving.core.tables import XapiDocument, utcnow
from serving.xapi.errors import XapiError

JSON_TYPE = "application/json"


class DocumentKind(StrEnum):
    STATE = "state"
    ACTIVITY_PROFILE = "activity_profile"
    AGENT_PROFILE = "agent_profile"


@dataclass(frozen=True)
class DocumentSet:
    """The documents one request's parameters name, all but the document id: a State's activity, agent
    and registration; an Activity Profile's activity; an Agent Profile's agent (by its identifier)."""

    kind: DocumentKind
    activity_id: str | None = None
    agent_key: str | None = None
    registration: str | None = None

    def _hash(self, *extra: str) -> str:
        parts = [self.kind.value, self.activity_id or "", self.agent_key or "", self.registration or "", *extra]
        return hashlib.sha256(orjson.dumps(parts)).hexdigest()

    @property
    def scope_hash(self) -> str:
        return self._hash()

    def key_hash(self, document_id: str) -> str:
        return self._hash(document_id)


@dataclass(frozen=True)
class Document:
    content_type: str
    content: bytes
    etag: str
    updated_at: datetime


@dataclass(frozen=True)
class Preconditions:
    """The request's ``If-Match`` / ``If-None-Match`` headers, and whether a PUT over an existing document
    must carry one of them (Activity and Agent Profiles always; the State Resource from xAPI 2.0 on)."""

    if_match: str | None = None
    if_none_match: str | None = None
    required_to_overwrite: bool = False

    def check(self, existing: XapiDocument | None) -> None:
        if self.if_match is not None and (existing is None or not _matches(self.if_match, existing.etag)):
            raise XapiError(412, "If-Match does not match the document's current ETag"
                                 + (" (there is no such document)" if existing is None else ""))
        if self.if_none_match is not None and existing is not None and _matches(self.if_none_match, existing.etag):
            raise XapiError(412, "If-None-Match matches the document's current ETag: it exists already")
        if self.required_to_overwrite and existing is not None and self.if_match is None and self.if_none_match is None:
            raise XapiError(409, "the document exists: send If-Match with its ETag to overwrite it "
                                 "(or If-None-Match: * to create it only if absent)")


def _matches(header: str, etag: str) -> bool:
    """Whether an If-Match / If-None-Match header names ``etag`` (RFC 7232: a list of entity tags, or *)."""
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")]
    return "*" in tags or etag in tags


def etag_of(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()


def is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == JSON_TYPE


def _json_object(content: bytes, what: str) -> dict:
    try:
        parsed = orjson.loads(content)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise XapiError(400, f"{what} is not a JSON object, so the two cannot be merged: PUT it instead")
    return parsed


class DocumentStore:
    """Documents in the core database; every write checks its preconditions in its own transaction."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def get(self, documents: DocumentSet, document_id: str) -> Document | None:
        with self.database.read() as session:
            row = session.scalar(select(XapiDocument).where(XapiDocument.key_hash == documents.key_hash(document_id)))
            return None if row is None else Document(row.content_type, row.content, row.etag, row.updated_at)

    def ids(self, documents: DocumentSet, since: datetime | None = None) -> list[str]:
        """The ids of the documents in ``documents`` (changed after ``since``), oldest change first."""
        query = select(XapiDocument.document_id).where(XapiDocument.scope_hash == documents.scope_hash)
        if since is not None:
            query = query.where(XapiDocument.updated_at > since)
        with self.database.read() as session:
            return list(session.scalars(query.order_by(XapiDocument.updated_at, XapiDocument.id)))

    def put(self, documents: DocumentSet, document_id: str, content_type: str, content: bytes,
            preconditions: Preconditions) -> str:
        """Store the document as given, replacing any; returns its new ETag."""
        return self._write(documents, document_id, preconditions, lambda _: (content_type, content))

    def merge(self, documents: DocumentSet, document_id: str, content_type: str, content: bytes,
              preconditions: Preconditions) -> str:
        """POST: a new document is stored as given; over an existing one, both must be JSON objects and the
        new one's top-level properties replace the old one's (the rest stay). Returns the new ETag."""

        def merged(existing: XapiDocument | None) -> tuple[str, bytes]:
            if existing is None:
                return content_type, content
            if not (is_json(existing.content_type) and is_json(content_type)):
                raise XapiError(400, "POST merges JSON documents only: the stored one or the one sent is not "
                                     "application/json (PUT replaces a document of any type)")
            base = _json_object(existing.content, "the stored document")
            base.update(_json_object(content, "the document sent"))
            return JSON_TYPE, orjson.dumps(base)

        return self._write(documents, document_id, preconditions, merged)

    def delete(self, documents: DocumentSet, document_id: str, preconditions: Preconditions) -> None:
        with self.database.write() as session:
            row = self._locked(session, documents.key_hash(document_id))
            preconditions.check(row)
            if row is not None:
                session.delete(row)

    def delete_all(self, documents: DocumentSet) -> int:
        with self.database.write() as session:
            return session.execute(delete(XapiDocument).where(XapiDocument.scope_hash == documents.scope_hash)).rowcount

    def of_agents(self, agent_keys: list[str]) -> list[dict]:
        """Every document stored for one of these agents (an export), with its content as text where it is."""
        if not agent_keys:
            return []
        with self.database.read() as session:
            rows = session.scalars(select(XapiDocument).where(XapiDocument.agent_key.in_(agent_keys))
                                   .order_by(XapiDocument.id)).all()
        return [{"resource": row.kind, "activity_id": row.activity_id, "registration": row.registration,
                 "id": row.document_id, "content_type": row.content_type, "updated_at": row.updated_at,
                 "content": _readable(row.content)} for row in rows]

    def _write(self, documents: DocumentSet, document_id: str, preconditions: Preconditions, new_content) -> str:
        key = documents.key_hash(document_id)
        for attempt in range(2):
            try:
                with self.database.write() as session:
                    row = self._locked(session, key)
                    preconditions.check(row)
                    content_type, content = new_content(row)
                    if row is None:
                        row = XapiDocument(key_hash=key, scope_hash=documents.scope_hash, kind=documents.kind.value,
                                           activity_id=documents.activity_id, agent_key=documents.agent_key,
                                           registration=documents.registration, document_id=document_id)
                        session.add(row)
                    row.content_type, row.content, row.etag = content_type, content, etag_of(content)
                    row.updated_at = utcnow()
                    return row.etag
            except IntegrityError:  # a concurrent request created it first: check against that one
                if attempt:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _locked(session, key: str) -> XapiDocument | None:
        # FOR UPDATE on PostgreSQL; SQLite's write sessions hold the write lock already.
        return session.scalar(select(XapiDocument).where(XapiDocument.key_hash == key).with_for_update())


def _readable(content: bytes):
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        try:
            return content.decode()
        except UnicodeDecodeError:
            return {"bytes_base64": base64.b64encode(content).decode()}
