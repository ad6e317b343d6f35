"""xAPI 1.0.3 statements as pydantic models, with the rules of the specification's Data section.

Everything the specification does not allow is refused: unknown properties (outside
``extensions``), an Agent with zero or two identifiers, malformed IRIs, UUIDs, language tags,
durations and timestamps, scores out of range, a SubStatement with an id. The routes turn
any ValidationError into 400, as the specification requires.
"""

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from lake.sources.xapi import VOIDED, ifi_key

IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
LANGUAGE_TAG = re.compile(r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})(?:-[A-Za-z]{4})?"
                          r"(?:-(?:[A-Za-z]{2}|\d{3}))?(?:-(?:[A-Za-z\d]{5,8}|\d[A-Za-z\d]{3}))*"
                          r"(?:-[A-WY-Za-wy-z\d](?:-[A-Za-z\d]{2,8})+)*(?:-x(?:-[A-Za-z\d]{1,8})+)?$|^x(?:-[A-Za-z\d]{1,8})+$")
DURATION = re.compile(r"^P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?"
                      r"(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$")
SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
# ISO 8601 extended, or RFC 3339 (a space between date and time); the offset "negative zero" is refused.
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$")
NEGATIVE_ZERO = re.compile(r"-00(?::?00)?$")


def _iri(value: str) -> str:
    if not IRI.match(value):
        raise ValueError(f"{value!r} is not an IRI (scheme:rest)")
    return value


def _language_map(value: dict[str, str]) -> dict[str, str]:
    for tag in value:
        if not LANGUAGE_TAG.match(tag):
            raise ValueError(f"{tag!r} is not an RFC 5646 language tag")
    return value


def _extensions(value: dict[str, Any]) -> dict[str, Any]:
    for key in value:
        _iri(key)
    return value


def _timestamp(value: str) -> str:
    if not TIMESTAMP.match(value) or NEGATIVE_ZERO.search(value):
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp (and an offset of -00, -0000 or -00:00 is not allowed)")
    datetime.fromisoformat(value.upper().replace(" ", "T"))  # the date itself must exist
    return value


def _duration(value: str) -> str:
    if not DURATION.match(value):
        raise ValueError(f"{value!r} is not an ISO 8601 duration")
    return value


def _mailto(value: str) -> str:
    if not value.startswith("mailto:") or "@" not in value:
        raise ValueError("mbox must be a mailto: IRI")
    return value


Iri = Annotated[str, AfterValidator(_iri)]
LanguageMap = Annotated[dict[str, str], AfterValidator(_language_map)]
Extensions = Annotated[dict[str, Any], AfterValidator(_extensions)]
Timestamp = Annotated[str, AfterValidator(_timestamp)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class Account(_Strict):
    home_page: Annotated[Iri, Field(alias="homePage")]
    name: str


class _Identified(_Strict):
    name: str | None = None
    mbox: Annotated[str, AfterValidator(_mailto)] | None = None
    mbox_sha1sum: Annotated[str, Field(pattern=SHA1.pattern)] | None = None
    openid: Iri | None = None
    account: Account | None = None

    def identifiers(self) -> list[str]:
        return [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if getattr(self, k) is not None]

    def ifi_key(self) -> str | None:
        """A canonical string of the inverse functional identifier, for matching queries (and pseudonyms)."""
        return ifi_key(self.model_dump(by_alias=True, include={"mbox", "mbox_sha1sum", "openid", "account"}))


class Agent(_Identified):
    object_type: Annotated[Literal["Agent"] | None, Field(alias="objectType")] = None

    @model_validator(mode="after")
    def _one_identifier(self) -> "Agent":
        if len(self.identifiers()) != 1:
            raise ValueError("an Agent needs exactly one of mbox, mbox_sha1sum, openid, account")
        return self


class Group(_Identified):
    object_type: Annotated[Literal["Group"], Field(alias="objectType")]
    member: list[Agent] | None = None

    @model_validator(mode="after")
    def _identified_or_members(self) -> "Group":
        ids = self.identifiers()
        if len(ids) > 1:
            raise ValueError("a Group has at most one inverse functional identifier")
        if not ids and not self.member:
            raise ValueError("an anonymous Group needs members")
        return self


def _object_type(default: str):
    def discriminate(value: Any) -> str:
        if isinstance(value, dict):
            return value.get("objectType") or default
        return getattr(value, "object_type", None) or default
    return discriminate


# objectType decides which rules apply, so errors speak of one type, not of every guess.
Actor = Annotated[Annotated[Agent, Tag("Agent")] | Annotated[Group, Tag("Group")],
                  Discriminator(_object_type("Agent"))]


class Verb(_Strict):
    id: Iri
    display: LanguageMap | None = None


class InteractionComponent(_Strict):
    id: str
    description: LanguageMap | None = None


class ActivityDefinition(_Strict):
    name: LanguageMap | None = None
    description: LanguageMap | None = None
    type: Iri | None = None
    more_info: Annotated[Iri | None, Field(alias="moreInfo")] = None
    extensions: Extensions | None = None
    interaction_type: Annotated[
        Literal["true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing",
                "likert", "numeric", "other"] | None, Field(alias="interactionType")] = None
    correct_responses_pattern: Annotated[list[str] | None, Field(alias="correctResponsesPattern")] = None
    choices: list[InteractionComponent] | None = None
    scale: list[InteractionComponent] | None = None
    source: list[InteractionComponent] | None = None
    target: list[InteractionComponent] | None = None
    steps: list[InteractionComponent] | None = None

    @model_validator(mode="after")
    def _interaction_fields_need_a_type(self) -> "ActivityDefinition":
        if self.interaction_type is None and (self.correct_responses_pattern is not None or self.choices is not None):
            raise ValueError("interaction properties need interactionType")
        return self


class Activity(_Strict):
    object_type: Annotated[Literal["Activity"] | None, Field(alias="objectType")] = None
    id: Iri
    definition: ActivityDefinition | None = None


class StatementRef(_Strict):
    object_type: Annotated[Literal["StatementRef"], Field(alias="objectType")]
    id: UUID


class Score(_Strict):
    scaled: Annotated[float, Field(ge=-1, le=1)] | None = None
    raw: float | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Score":
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError("score min must be below max")
        if self.raw is not None and ((self.min is not None and self.raw < self.min)
                                     or (self.max is not None and self.raw > self.max)):
            raise ValueError("score raw must lie between min and max")
        return self


class Result(_Strict):
    score: Score | None = None
    success: bool | None = None
    completion: bool | None = None
    response: str | None = None
    duration: Annotated[str, AfterValidator(_duration)] | None = None
    extensions: Extensions | None = None


class ContextActivities(_Strict):
    parent: list[Activity] | None = None
    grouping: list[Activity] | None = None
    category: list[Activity] | None = None
    other: list[Activity] | None = None

    @field_validator("parent", "grouping", "category", "other", mode="before")
    @classmethod
    def _single_to_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value  # one Activity is allowed, as a list of one


RelevantTypes = Annotated[list[Iri], Field(min_length=1)]


def _speaks_2_0(info: ValidationInfo) -> bool:
    """Whether the request declared xAPI 2.0 (``parse`` passes its version as the validation context)."""
    return str((info.context or {}).get("version", "")).startswith("2.")


class ContextAgent(_Strict):
    """xAPI 2.0: an agent with a role in the experience, typed by IRIs."""

    object_type: Annotated[Literal["contextAgent"], Field(alias="objectType")]
    agent: Agent
    relevant_types: Annotated[RelevantTypes | None, Field(alias="relevantTypes")] = None


class ContextGroup(_Strict):
    """xAPI 2.0: a group with a role in the experience, typed by IRIs."""

    object_type: Annotated[Literal["contextGroup"], Field(alias="objectType")]
    group: Group
    relevant_types: Annotated[RelevantTypes | None, Field(alias="relevantTypes")] = None


class Context(_Strict):
    registration: UUID | None = None
    instructor: Actor | None = None
    team: Group | None = None
    context_activities: Annotated[ContextActivities | None, Field(alias="contextActivities")] = None
    revision: str | None = None
    platform: str | None = None
    language: Annotated[str, Field(pattern=LANGUAGE_TAG.pattern)] | None = None
    statement: StatementRef | None = None
    extensions: Extensions | None = None
    context_agents: Annotated[list[ContextAgent] | None, Field(alias="contextAgents")] = None
    context_groups: Annotated[list[ContextGroup] | None, Field(alias="contextGroups")] = None

    @model_validator(mode="after")
    def _xapi_2_only(self, info: ValidationInfo) -> "Context":
        if (self.context_agents is not None or self.context_groups is not None) and not _speaks_2_0(info):
            raise ValueError("contextAgents and contextGroups are xAPI 2.0: send X-Experience-API-Version: 2.0.0")
        return self


class Attachment(_Strict):
    usage_type: Annotated[Iri, Field(alias="usageType")]
    display: LanguageMap
    description: LanguageMap | None = None
    content_type: Annotated[str, Field(alias="contentType")]
    length: int
    sha2: str
    file_url: Annotated[Iri | None, Field(alias="fileUrl")] = None


class SubStatement(_Strict):
    object_type: Annotated[Literal["SubStatement"], Field(alias="objectType")]
    actor: Actor
    verb: Verb
    object: Annotated[Annotated[Activity, Tag("Activity")] | Annotated[Agent, Tag("Agent")]
                      | Annotated[Group, Tag("Group")] | Annotated[StatementRef, Tag("StatementRef")],
                      Discriminator(_object_type("Activity"))]
    result: Result | None = None
    context: Context | None = None
    timestamp: Timestamp | None = None
    attachments: list[Attachment] | None = None

    @model_validator(mode="after")
    def _cross_rules(self) -> "SubStatement":
        _revision_and_platform_need_an_activity(self)
        return self


def _revision_and_platform_need_an_activity(statement: "Statement | SubStatement") -> None:
    context = statement.context
    if context is not None and not isinstance(statement.object, Activity) and (
            context.revision is not None or context.platform is not None):
        raise ValueError("context.revision and context.platform are allowed only when the object is an Activity")


class Statement(_Strict):
    """One xAPI statement as a client sends it; LRS-set properties are optional."""

    id: UUID | None = None
    actor: Actor
    verb: Verb
    object: Annotated[Annotated[Activity, Tag("Activity")] | Annotated[Agent, Tag("Agent")]
                      | Annotated[Group, Tag("Group")] | Annotated[StatementRef, Tag("StatementRef")]
                      | Annotated[SubStatement, Tag("SubStatement")],
                      Discriminator(_object_type("Activity"))]
    result: Result | None = None
    context: Context | None = None
    timestamp: Timestamp | None = None
    stored: Timestamp | None = None
    authority: Actor | None = None
    version: Annotated[str, Field(pattern=r"^(?:1\.0|2\.0)(\.\d+)?$")] | None = None

    @field_validator("version")
    @classmethod
    def _version_the_client_speaks(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value.startswith("2.") and not _speaks_2_0(info):
            raise ValueError("a 2.0 statement needs X-Experience-API-Version: 2.0.0")
        return value
    attachments: list[Attachment] | None = None

    @model_validator(mode="after")
    def _cross_rules(self) -> "Statement":
        _revision_and_platform_need_an_activity(self)
        if self.verb.id == VOIDED and not isinstance(self.object, StatementRef):
            raise ValueError("a voiding statement's object must be a StatementRef")
        if isinstance(self.authority, Group) and (self.authority.identifiers() or len(self.authority.member or []) != 2):
            raise ValueError("an authority that is a Group must be anonymous with exactly two Agents (OAuth: the "
                             "application and the user)")
        return self

    def attachment_hashes(self) -> list[str]:
        """sha2 of the attachments whose content must travel in the request (no fileUrl)."""
        found = [a.sha2 for a in self.attachments or [] if a.file_url is None]
        if isinstance(self.object, SubStatement):
            found += [a.sha2 for a in self.object.attachments or [] if a.file_url is None]
        return found

    def actor_keys(self) -> list[str]:
        """The IFIs of the actor (and of an identified group's members), for the agent filter."""
        keys = [self.actor.ifi_key()]
        if isinstance(self.actor, Group) and self.actor.member:
            keys += [m.ifi_key() for m in self.actor.member]
        return [k for k in keys if k]
