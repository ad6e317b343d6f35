"""The error answers routes document in OpenAPI, so clients (and schemathesis) know every status."""

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    """An error: ``detail`` says why (a sentence, or a list of problems with where they are)."""

    detail: str | list[Any] | dict[str, Any]


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses."""
    return {code: {"model": Problem, "description": HTTPStatus(code).phrase} for code in codes}


# Every route behind a bearer token may answer these (413: a body over LEARNLAKE_MAX_BODY_BYTES).
SIGNED_IN = documented(401, 403, 413, 429)


EXCERPT_CHARS = 40
# Fields whose values an error must never repeat, wherever they sit in a body.
SECRET_FIELDS = frozenset({"password", "current_password", "new_password", "refresh_token", "access_token", "key"})


def public_problems(errors: list[dict]) -> list[dict]:
    """Validation errors as a client may see them: where, what and why, with at most a short excerpt
    of the value sent (a 1 MB field must not come back as a 1 MB error) and none of a secret."""
    problems = []
    for error in errors:
        problem = {"type": error.get("type"), "loc": list(error.get("loc", ())), "msg": error.get("msg")}
        if not SECRET_FIELDS.intersection(map(str, problem["loc"])):
            excerpt = _excerpt(error.get("input"))
            if excerpt is not None:
                problem["input"] = excerpt
        # The context names limits (max_length: 300); an "error" in it only repeats msg.
        if ctx := {key: value for key, value in (error.get("ctx") or {}).items() if key != "error"}:
            problem["ctx"] = {key: _excerpt(value) if isinstance(value, str | int | float | bool) else str(value)[:80]
                              for key, value in ctx.items()}
        problems.append(problem)
    return problems


def _excerpt(value):
    """Numbers and booleans as they are, a string cut to ``EXCERPT_CHARS``; nothing for containers."""
    if isinstance(value, bool | float) or value is None:
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= 64 else None
    if isinstance(value, str):
        return value if len(value) <= EXCERPT_CHARS else value[:EXCERPT_CHARS] + "..."
    return None
