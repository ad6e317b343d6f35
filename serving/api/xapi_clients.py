"""Who may call the LRS, with which xAPI version: one place for every resource under ``/xapi``.

Learning tools authenticate with HTTP Basic and a source key (``learnlake sources add NAME``: the key's
name as the user, the key as the password). ``xapi:read`` and ``xapi:write`` are the broad scopes, as
the xAPI authorization model's ``all/read`` and ``all``; ``state:*`` and ``profile:*`` allow only the
document resources. A signed-in user's own tools may also use their access token (Bearer), for their
own documents only: the State and Agent Profiles whose agent is their ``mbox`` (or its SHA-1), and
reading Activity Profiles.
Every request but ``/xapi/about`` needs ``X-Experience-API-Version``.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials

from lake.privacy import subject_of
from serving.api.auth import authorize_source, current_user
from serving.core.source_keys import Scope, Source

SUPPORTED = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0")
LRS_VERSIONS = ("1.0.3", "2.0.0")  # what /xapi/about lists, and what answers are labelled with
BASIC_CHALLENGE = 'Basic realm="xapi"'
basic = HTTPBasic(auto_error=False)
BasicCredentials = Annotated[HTTPBasicCredentials | None, Depends(basic)]


def xapi_version(request: Request) -> str:
    """The client's ``X-Experience-API-Version``: required, and one this LRS speaks (400 otherwise)."""
    version = request.headers.get("x-experience-api-version")
    if version is None:
        raise HTTPException(400, "the X-Experience-API-Version header is required")
    if version not in SUPPORTED:
        raise HTTPException(400, f"X-Experience-API-Version {version!r} is not supported; use one of {SUPPORTED}")
    return version


def speaks_2_0(version: str) -> bool:
    return version.startswith("2.")


def _is_read(request: Request) -> bool:
    return request.method in ("GET", "HEAD")


def _no_credentials() -> HTTPException:
    return HTTPException(401, "xAPI needs HTTP Basic credentials: a source key's name and the key "
                              "(learnlake sources add NAME)", headers={"WWW-Authenticate": BASIC_CHALLENGE})


def require_lrs_client(request: Request, credentials: BasicCredentials) -> Source:
    """The Statement Resource and the Activities and Agents Resources: a source key with ``xapi:read`` to
    read, ``xapi:write`` to write; the source is the authority of what it stores."""
    if credentials is None:
        raise _no_credentials()
    scope = Scope.XAPI_READ if _is_read(request) else Scope.XAPI_WRITE
    source = authorize_source(request, credentials.password, scope, name=credentials.username,
                              challenge=BASIC_CHALLENGE)
    xapi_version(request)
    return source


LrsClient = Annotated[Source, Depends(require_lrs_client)]


@dataclass(frozen=True)
class DocumentCaller:
    """Who asks for a document: a source (any agent's documents) or a signed-in user (their own only)."""

    version: str
    source: Source | None = None
    own_agent_keys: frozenset[str] | None = None  # None: a source, which may name any agent

    def may_use_agent(self, agent_key: str | None) -> bool:
        return self.own_agent_keys is None or agent_key in self.own_agent_keys


def document_caller(read: Scope, write: Scope, *, users_may_write: bool = True):
    """The dependency of one document resource: a source key holding ``read`` / ``write`` (or the broad
    ``xapi:read`` / ``xapi:write``), or a user's access token."""

    async def dependency(request: Request, credentials: BasicCredentials) -> DocumentCaller:
        reading = _is_read(request)
        bearer = request.headers.get("authorization", "")
        if credentials is None and bearer[:7].lower() == "bearer ":
            user = await current_user(request, HTTPAuthorizationCredentials(scheme="Bearer",
                                                                            credentials=bearer[7:].strip()))
            if not reading and not users_may_write:
                raise HTTPException(403, "only a source key may write here")
            key = request.app.state.settings.pseudonym_key.get_secret_value()
            own = subject_of(user.id, user.email, user.name, key).xapi_keys  # their mbox, as erasure finds it
            return DocumentCaller(xapi_version(request), own_agent_keys=frozenset(own))
        if credentials is None:
            raise _no_credentials()
        source = authorize_source(request, credentials.password, None, name=credentials.username,
                                  challenge=BASIC_CHALLENGE)
        allowed = (read, Scope.XAPI_READ) if reading else (write, Scope.XAPI_WRITE)
        if not set(allowed) & set(source.scopes):
            raise HTTPException(403, f"the key of {source.name!r} needs one of the scopes {[s.value for s in allowed]} "
                                     f"(it has {list(source.scopes)})")
        return DocumentCaller(xapi_version(request), source=source)

    return dependency
