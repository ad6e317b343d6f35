"""The one way LearnLake reads a JSON body a client sent: strict, and bounded in depth.

Every JSON body (core API, xAPI, native events) goes through ``parse_json`` before anything
looks inside it, with the limits of ``LEARNLAKE_MAX_BODY_BYTES`` and ``LEARNLAKE_MAX_JSON_DEPTH``.
orjson is strict where Python's ``json`` is lax: it refuses ``NaN`` and ``Infinity``, lone
UTF-16 surrogates (``"\\ud800"``), invalid UTF-8 and numbers too large for a double, none of
which a database, Parquet or a later JSON reader can hold. Its own depth limit (1024) keeps the
parse itself safe; ours, far lower, keeps what is stored readable by any recursive reader later
(a 300-level object once made every read of its course fail).
"""

import orjson

from learnlake.errors import LearnLakeError

DEFAULT_MAX_DEPTH = 32
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


class JsonRefused(LearnLakeError):
    """A JSON body is malformed, holds a value no store can keep, or nests deeper than allowed."""


def parse_json(body: bytes, *, max_depth: int = DEFAULT_MAX_DEPTH) -> object:
    """The value of ``body``, or ``JsonRefused`` saying why not.

    Args:
        body: the raw bytes the client sent.
        max_depth: most levels of arrays and objects; ``[]`` is 1, ``[{}]`` is 2.
    """
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise JsonRefused(f"malformed JSON: {exc}") from None
    if (depth := json_depth(value, limit=max_depth)) > max_depth:
        raise JsonRefused(f"JSON nested more than {max_depth} levels deep (at least {depth}); "
                          f"at most {max_depth} are allowed")
    return value


def json_depth(value: object, *, limit: int) -> int:
    """Levels of nesting of ``value``, counted up to ``limit + 1`` (then the walk stops).

    Level by level rather than recursively, and only containers are visited: a 5,000-event
    batch is walked in about as long as orjson takes to parse it.
    """
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return depth
        below: list = []
        for container in level:
            below += [v for v in (container.values() if type(container) is dict else container)
                      if type(v) is dict or type(v) is list]
        level = below
    return depth
