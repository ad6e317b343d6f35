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


# Every route behind a bearer token may answer these.
SIGNED_IN = documented(401, 403, 429)
