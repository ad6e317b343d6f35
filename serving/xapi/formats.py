"""The ``format`` parameter of statement queries: ``exact`` (as stored), ``ids`` and ``canonical``."""

from typing import Any

IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")


def _actor_ids(actor: dict) -> dict:
    """An Agent or Group reduced to its type and identifier (and a Group's members likewise)."""
    reduced = {k: v for k, v in actor.items() if k in IFI_KEYS or k == "objectType"}
    if "member" in actor:
        reduced["member"] = [_actor_ids(m) for m in actor["member"]]
    return reduced


def _object_ids(obj: dict) -> dict:
    kind = obj.get("objectType", "Activity")
    if kind in ("Agent", "Group"):
        return _actor_ids(obj)
    if kind == "SubStatement":
        return ids_format(obj)
    return {k: v for k, v in obj.items() if k in ("objectType", "id")}


def ids_format(statement: dict) -> dict:
    """``format=ids``: agents, groups, activities and verbs only by their identifiers."""
    out = dict(statement)
    out["actor"] = _actor_ids(statement["actor"])
    out["verb"] = {"id": statement["verb"]["id"]}
    out["object"] = _object_ids(statement["object"])
    if "authority" in statement:
        out["authority"] = _actor_ids(statement["authority"])
    context = statement.get("context")
    if context:
        context = dict(context)
        for role in ("instructor", "team"):
            if role in context:
                context[role] = _actor_ids(context[role])
        if "contextActivities" in context:
            context["contextActivities"] = {k: [{"id": a["id"]} for a in v]
                                            for k, v in context["contextActivities"].items()}
        out["context"] = context
    return out


def canonical_format(value: Any, languages: list[str]) -> Any:
    """``format=canonical``: each language map keeps one entry, the first of ``languages`` it has."""
    if isinstance(value, list):
        return [canonical_format(v, languages) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key in ("display", "name", "description") and isinstance(item, dict) and item \
                and all(isinstance(v, str) for v in item.values()):
            chosen = next((tag for tag in languages if tag in item), next(iter(item)))
            out[key] = {chosen: item[chosen]}
        elif key == "extensions":
            out[key] = item  # extension values are the client's own, never rewritten
        else:
            out[key] = canonical_format(item, languages)
    return out


def accepted_languages(header: str | None) -> list[str]:
    """Language tags of an Accept-Language header, best first."""
    if not header:
        return []
    weighted = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*":
            weighted.append((quality, tag))
    return [tag for _, tag in sorted(weighted, key=lambda pair: -pair[0])]
