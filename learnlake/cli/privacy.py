"""``learnlake privacy``: erase a person from every store, and look for what remains of them."""

import json
from typing import Annotated

import typer
from rich.table import Table

from learnlake.cli.common import JsonOption, console, core_database
from learnlake.settings import get_settings

app = typer.Typer(help="Erasure (GDPR art. 17) and its verification.", no_args_is_help=True)

UserArgument = Annotated[str, typer.Argument(help="The account: its id or its e-mail address.")]


@app.command("forget")
def forget(user: UserArgument, as_json: JsonOption = False) -> None:
    """Erase USER: the core database at once, then every other store (the privacy_erasure job, run here).

    Erasing twice changes nothing; old lake versions go once the grace period has passed
    (LEARNLAKE_ERASURE_GRACE_DAYS), and the erasure is done then."""
    from pipelines.run import run_privacy_erasure
    from serving.core.privacy import ErasureRefused, UnknownPerson, erase_account

    settings = get_settings()
    try:
        with core_database() as database:
            erasure = erase_account(database, user, requested_by="cli",
                                    pseudonym_key=settings.pseudonym_key.get_secret_value())
    except UnknownPerson as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    except ErasureRefused as exc:
        console.print(f"[red]cannot erase: {exc}[/red]")
        raise typer.Exit(1) from exc
    with console.status("Erasing from every store..."):
        results = run_privacy_erasure(settings=settings)
    mine = next((r for r in results if r["erasure"] == erasure.id), None)
    outcome = {"erasure": erasure.id, "requested_at": erasure.requested_at.isoformat(),
               "done": mine["done"] if mine else erasure.status == "done",
               "stores": mine["stores"] if mine else erasure.stores,
               "history_forgotten_after": mine["history_forgotten_after"] if mine else None}
    if as_json:
        print(json.dumps(outcome, default=str))
        return
    table = Table("store", "state", title=f"Erasure {erasure.id}" + (" (done)" if outcome["done"] else ""))
    for store, state in sorted(outcome["stores"].items()):
        table.add_row(store, "done" if "done_at" in state else f"[red]{state.get('error', 'pending')}[/red]")
    console.print(table)
    if not outcome["done"]:
        console.print(f"old lake versions still hold the learner until {outcome['history_forgotten_after']}; "
                      "the daily privacy_erasure run removes them then")


@app.command("verify")
def verify(user: UserArgument, as_json: JsonOption = False) -> None:
    """Look in every store for USER (ids, pseudonyms, e-mail, name) and say where anything remains.

    Works on an erased account from the hashes its erasure keeps. Exits 1 if anything remains."""
    import redis

    from lake.privacy import identifier_hashes, subject_of
    from pipelines.defs.privacy.verify import Needles, find_remains
    from serving.core.privacy import find_account, find_erasure

    settings = get_settings()
    with core_database() as database:
        account = find_account(database, user)
        erasure = None if account is not None else find_erasure(database, user)
    if account is not None:
        hashes = identifier_hashes(subject_of(account.id, account.email, account.name,
                                              settings.pseudonym_key.get_secret_value()))
    elif erasure is not None:
        hashes = erasure.identifier_hashes
    else:
        console.print(f"[red]no account {user!r}, and no erasure of one[/red]")
        raise typer.Exit(2)
    client = redis.Redis.from_url(settings.redis_url) if settings.redis_url else None
    findings = find_remains(settings, Needles(hashes), redis_client=client)
    if as_json:
        print(json.dumps({"account_exists": account is not None, "erased": erasure is not None,
                          "remains": [f.__dict__ for f in findings]}))
    elif findings:
        table = Table("store", "where", "what", title=f"What remains of {user}")
        for finding in findings:
            table.add_row(finding.store, finding.where, finding.kind)
        console.print(table)
    else:
        console.print(f"nothing of {user} remains in any store")
    if findings:
        raise typer.Exit(1)
