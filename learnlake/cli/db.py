"""``learnlake db``: the core course/user database (migrations, the demo's seed)."""

from typing import Annotated

import typer

from learnlake.cli.common import LearnersOption, console
from learnlake.settings import get_settings

app = typer.Typer(help="The core course/user database.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Alembic revision")] = "head") -> None:
    """Apply the core database's migrations (LEARNLAKE_DATABASE_URL; SQLite under home by default)."""
    from sqlalchemy.engine import make_url

    from serving.core.migrate import current_revision, upgrade

    settings = get_settings()
    upgrade(settings.database_url, revision)
    safe_url = make_url(settings.database_url).render_as_string(hide_password=True)
    console.print(f"core database at revision {current_revision(settings.database_url)}: {safe_url}")


@app.command("seed")
def db_seed(learners: LearnersOption = None) -> None:
    """Fill the core database with the simulator's users, courses, enrollments and progress."""
    seed_demo(learners)


def seed_demo(learners: int | None) -> None:
    from serving.core.seed import DEMO_PASSWORD, seed_simulated_platform

    settings = get_settings()
    if (settings.learners if learners is None else learners) == 0:
        console.print("[red]LEARNLAKE_LEARNERS=0: there is no simulated platform to seed or to demo; "
                      "set it, or pass --learners N[/red]")
        raise typer.Exit(2)
    with console.status("Seeding the core database with the simulated platform..."):
        counts, accounts = seed_simulated_platform(settings, learners)
    if counts.users:
        console.print(f"core database seeded: {counts.users:,} users, {counts.courses} courses, "
                      f"{counts.enrollments:,} enrollments, {counts.progress:,} item completions")
    else:
        console.print("core database already seeded")
    console.print(f"demo accounts (password {DEMO_PASSWORD!r}): {', '.join(accounts)}")
