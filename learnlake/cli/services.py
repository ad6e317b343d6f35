"""``learnlake api`` and ``learnlake dashboards``: one process of a deployment each (``deploy/README.md``), started
the way ``learnlake serve`` starts them on one machine."""

import os
from typing import Annotated

import typer

from learnlake.settings import get_settings

HostOption = Annotated[str | None, typer.Option(help="Address to listen on (default: LEARNLAKE_API_HOST).")]


def api(
    host: HostOption = None,
    port: Annotated[int | None, typer.Option(help="Port (default: LEARNLAKE_API_PORT).")] = None,
) -> None:
    """Run one API replica (uvicorn): as many as wanted behind a proxy, each with its own LEARNLAKE_WRITER_ID."""
    from serving.main import uvicorn_command

    settings = get_settings()
    become(uvicorn_command(host or settings.api_host, port or settings.api_port))


def dashboards(
    host: HostOption = None,
    port: Annotated[int | None, typer.Option(help="Port (default: LEARNLAKE_DASHBOARD_PORT).")] = None,
) -> None:
    """Run the dashboards (Streamlit); they call the API at LEARNLAKE_API_URL with each user's own token."""
    from learnlake.supervisor import dashboards_command

    settings = get_settings()
    become(dashboards_command(host or settings.api_host, port or settings.dashboard_port))


def become(command: list[str], env: dict[str, str] | None = None) -> None:
    """Replace this process with ``command`` (in the repository root, with what every service needs and ``env``):
    signals from the process manager then reach the server itself."""
    from learnlake.supervisor import repo_root, service_environment

    os.chdir(repo_root())
    os.execve(command[0], command, {**service_environment(get_settings()), **(env or {})})
