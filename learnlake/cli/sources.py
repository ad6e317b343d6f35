"""``learnlake sources``: the keys event sources send with their events and statements."""

import json
from typing import Annotated

import typer
from rich.table import Table

from learnlake.cli.common import JsonOption, clear_errors, console, core_database

app = typer.Typer(help="Keys of event sources (native events and xAPI).", no_args_is_help=True)

ScopesOption = Annotated[str, typer.Option(
    "--scopes", help="Comma-separated: events:write (POST /v1/events), xapi:write, xapi:read (statements and every document), state:write, state:read, profile:write, profile:read (documents only).")]


def _as_dict(info) -> dict:
    return {"name": info.name, "scopes": list(info.scopes), "created_at": info.created_at.isoformat(),
            "last_used_at": info.last_used_at.isoformat() if info.last_used_at else None,
            "revoked_at": info.revoked_at.isoformat() if info.revoked_at else None}


@app.command("add")
def add(name: Annotated[str, typer.Argument(help="The source, e.g. moodle-prod or mobile-app.")],
        scopes: ScopesOption = "events:write,xapi:write,xapi:read", as_json: JsonOption = False) -> None:
    """Make a key for a new source and print it, once: only its hash is kept."""
    from serving.core.source_keys import create_key

    with core_database() as database, clear_errors("cannot add the source"):
        try:
            info, key = create_key(database, name, scopes)
        except ValueError as exc:
            console.print(f"[red]cannot add the source: {exc}[/red]")
            raise typer.Exit(2) from exc
    if as_json:
        print(json.dumps({"name": info.name, "key": key, "scopes": list(info.scopes)}))
        return
    console.print(f"source [bold]{info.name}[/bold] ({', '.join(info.scopes)}); its key, shown only now:")
    print(key)
    console.print("Native events: 'Authorization: Bearer <key>'. xAPI: HTTP Basic with the name as user, "
                  "the key as password.")


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Every source key, revoked ones too, with scopes and last use (never the key)."""
    from serving.core.source_keys import list_keys

    with core_database() as database:
        keys = [_as_dict(info) for info in list_keys(database)]
    if as_json:
        print(json.dumps(keys))
        return
    table = Table("name", "scopes", "created", "last used", "revoked", title="Source keys")
    for key in keys:
        table.add_row(key["name"], ", ".join(key["scopes"]), key["created_at"][:19], (key["last_used_at"] or "")[:19],
                      (key["revoked_at"] or "")[:19])
    console.print(table)


@app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="The source whose key stops working.")],
           as_json: JsonOption = False) -> None:
    """Revoke a source's key: every API process refuses it within a second."""
    from serving.core.source_keys import revoke_key

    with core_database() as database, clear_errors("cannot revoke"):
        info = revoke_key(database, name)
    if as_json:
        print(json.dumps(_as_dict(info)))
        return
    console.print(f"revoked the key of {info.name} ({info.revoked_at:%Y-%m-%d %H:%M:%S} UTC)")
