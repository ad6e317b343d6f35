"""``learnlake bench``: the benchmarks (``benchmarks/``), each printing its figures (``--json`` for one line)."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from learnlake.cli.common import BookOption, JsonOption, QuestionsOption, console, print_figures
from learnlake.settings import get_settings

app = typer.Typer(help="Benchmarks that print their figures.", no_args_is_help=True)


@app.command("ingest")
def bench_ingest(
    events: Annotated[int, typer.Option(help="Events to post.", min=1)] = 200_000,
    batch: Annotated[int, typer.Option(help="Events per request.", min=1)] = 500,
    clients: Annotated[int, typer.Option(help="Concurrent clients.", min=1)] = 4,
    replicas: Annotated[int, typer.Option(help="API replicas behind nginx on PostgreSQL, measured beside one "
                                               "(0: one API process on the embedded defaults).", min=0)] = 0,
    as_json: JsonOption = False,
) -> None:
    """Post simulator events to a fresh API on loopback and time them into Delta."""
    from dataclasses import asdict

    from benchmarks import ingest as bench_ingest

    if replicas:
        behind_proxy = bench_ingest.run_replicas(events=events, batch=batch, clients=clients, replicas=replicas,
                                                 progress=console.print)
        print_figures(asdict(behind_proxy), as_json=as_json, title="ingestion through nginx, by replicas")
        if not behind_proxy.exact:
            console.print(f"[red]Delta does not hold each of the {events:,} events exactly once[/red]")
            raise typer.Exit(1)
        return
    result = bench_ingest.run(events=events, batch=batch, clients=clients, progress=console.print)
    print_figures(asdict(result), as_json=as_json, title="ingestion benchmark")
    if result.delta_rows != events or result.delta_distinct_ids != events:
        console.print(f"[red]Delta holds {result.delta_rows:,} rows, {result.delta_distinct_ids:,} distinct ids; "
                      f"expected {events:,}[/red]")
        raise typer.Exit(1)


@app.command("xapi")
def bench_xapi(
    requests: Annotated[int, typer.Option(help="Requests of each kind sent one by one (a tenth as many in batches).",
                                          min=10)] = 2000,
    batch: Annotated[int, typer.Option(help="Events or statements per batched request.", min=1)] = 100,
    clients: Annotated[int, typer.Option(help="Concurrent clients.", min=1)] = 4,
    as_json: JsonOption = False,
) -> None:
    """Time the LRS (statements one by one and in batches, queries, State documents) beside native events."""
    from dataclasses import asdict

    from benchmarks import xapi as bench_xapi

    result = bench_xapi.run(requests=requests, batch=batch, clients=clients, progress=console.print)
    print_figures(asdict(result), as_json=as_json, title="xAPI benchmark")


@app.command("realtime")
def bench_realtime(
    clients: Annotated[int, typer.Option(help="WebSocket clients held at once.", min=1)] = 1000,
    messages: Annotated[int, typer.Option(help="Course announcements fanned out to all of them.", min=1)] = 20,
    as_json: JsonOption = False,
) -> None:
    """Hold many WebSocket clients on a fresh API, fan course messages out to all, and time it."""
    from dataclasses import asdict

    from benchmarks import realtime as bench_realtime

    result = bench_realtime.run(clients=clients, messages=messages, progress=console.print)
    print_figures(asdict(result), as_json=as_json, title="real-time benchmark")
    if result.deliveries != result.deliveries_due or result.connected != clients:
        console.print(f"[red]{result.connected:,} of {clients:,} connected; {result.deliveries:,} of "
                      f"{result.deliveries_due:,} deliveries[/red]")
        raise typer.Exit(1)


@app.command("serve")
def bench_serve(
    clients: Annotated[int, typer.Option(help="Concurrent clients on /health and recommendations.", min=1)] = 50,
    tutor_clients: Annotated[int, typer.Option(help="Concurrent clients asking the tutor.", min=1)] = 8,
    duration: Annotated[float, typer.Option(help="Seconds measured per endpoint.", min=1)] = 10.0,
    learners: Annotated[int, typer.Option(help="Learners of the demo trained first.", min=20)] = 400,
    home: Annotated[Path | None, typer.Option(help="A trained LearnLake home to serve instead of a new demo "
                                                   "(its core database gets tutor turns).")] = None,
    telemetry_rounds: Annotated[int, typer.Option(
        help="Also serve without telemetry (metrics, request ids, request logs) and drive both in turn this many "
             "times: what telemetry costs.", min=0)] = 0,
    as_json: JsonOption = False,
) -> None:
    """Serve trained models on loopback; time recommendations and tutor questions beside /health."""
    import json
    from dataclasses import asdict

    from benchmarks import serve as bench_serve

    result = bench_serve.run(clients=clients, tutor_clients=tutor_clients, duration_s=duration, learners=learners,
                             home=home, telemetry_rounds=telemetry_rounds,
                             progress=lambda m: console.print(m, style="dim"))
    figures = asdict(result)
    if as_json:
        print(json.dumps(figures))
        return
    table = Table("endpoint", "clients", "requests/s", "p50 ms", "p99 ms", "errors", "answered",
                  title="serving benchmark")
    for name, e in result.endpoints.items():
        table.add_row(name, str(e.clients), f"{e.requests_per_s:,.0f}", f"{e.p50_ms:.1f}", f"{e.p99_ms:.1f}",
                      str(e.errors), f"{e.answered_share:.0%}" if e.answered_share is not None else "")
    console.print(table)
    if result.telemetry:
        cost = Table("endpoint", "requests/s with", "without", "p50 ms with", "without", "overhead",
                     title="what telemetry costs")
        for name, c in result.telemetry.items():
            cost.add_row(name, f"{c.requests_per_s_with:,.0f}", f"{c.requests_per_s_without:,.0f}",
                         f"{c.p50_ms_with:.2f}", f"{c.p50_ms_without:.2f}", f"{c.overhead_pct:+.1f} %")
        console.print(cost)


@app.command("dashboards")
def bench_dashboards(
    home: Annotated[Path | None, typer.Option(help="A trained LearnLake home (default: LEARNLAKE_HOME).")] = None,
    rounds: Annotated[int, typer.Option(help="Warm loads timed per page.", min=1)] = 3,
    role: Annotated[list[str] | None, typer.Option(
        help="Only this role's pages (again for more roles): learner, instructor, analyst, ml_engineer, admin.")
    ] = None,
    events: Annotated[int | None, typer.Option(
        help="First grow the home's lake to this many events (its own, tiled over new learners), rebuild and "
             "publish the warehouse: e.g. 10000000. Changes the home: use a copy.", min=1)] = None,
    as_json: JsonOption = False,
) -> None:
    """Time every dashboard page of every role (or of ``--role``) in headless Chromium, against the API and
    streamlit on loopback."""
    import json
    from dataclasses import asdict

    from benchmarks import dashboards as bench_pages

    if unknown := sorted(set(role or []) - set(bench_pages.PAGES)):
        raise typer.BadParameter(f"no role {', '.join(unknown)}: one of {', '.join(bench_pages.PAGES)}",
                                 param_hint="--role")
    home = home or get_settings().home
    if events:
        from benchmarks.transform import grow_and_publish
        from learnlake.settings import Settings

        with console.status(f"Growing the lake to {events:,} events and rebuilding the warehouse..."):
            events = grow_and_publish(Settings(home=home), events)
    results = bench_pages.run(home, rounds=rounds, roles=role, progress=lambda m: console.print(m, style="dim"))
    if as_json:
        print(json.dumps({"home": str(home), "lake_events": events, "pages": [asdict(r) for r in results]}))
        return
    table = Table("role", "page", "first load s", "median s", "worst s", title="dashboard page loads")
    for r in results:
        table.add_row(r.role, r.page, f"{r.cold_s:.2f}", f"{r.median_s:.2f}", f"{r.worst_s:.2f}")
    console.print(table)


@app.command("transform")
def bench_transform(
    events: Annotated[int, typer.Option(help="Events in the lake before the full build.", min=1000)] = 1_000_000,
    lake_uri: Annotated[str | None, typer.Option(
        help="Put the lake here instead (e.g. s3://bucket/prefix, with the AWS_* settings): a new folder a run.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Time a full dbt build on N events, an incremental one after 1 % more, and a plain scan."""
    from dataclasses import asdict

    from benchmarks import transform as bench_transform

    with console.status(f"Benchmarking the transforms on {events:,} events..."):
        figures = asdict(bench_transform.run(events, lake_uri=lake_uri))
    print_figures(figures, as_json=as_json, title="transform benchmark")


@app.command("privacy")
def bench_privacy(
    events: Annotated[int, typer.Option(help="Events in the lake.", min=1000)] = 1_000_000,
    learners: Annotated[int, typer.Option(help="Learners erased together.", min=1)] = 1,
    as_json: JsonOption = False,
) -> None:
    """Time the erasure of K learners from every store of a home holding N events (grace period 0)."""
    from dataclasses import asdict

    from benchmarks import privacy as bench_privacy

    with console.status(f"Benchmarking erasure on {events:,} events...") as status:
        figures = asdict(bench_privacy.run(events, learners, progress=status.update))
    print_figures(figures, as_json=as_json, title="privacy benchmark")


@app.command("tutor-ratings")
def bench_tutor_ratings(content_dir: BookOption, questions_dir: QuestionsOption, as_json: JsonOption = False) -> None:
    """The tutor over HTTP on a fresh home holding the book: every question asked with no rating, then again with
    every answer rated; p50/p95 of each, beside /health/live."""
    from dataclasses import asdict

    from benchmarks import tutor_ratings

    with console.status("Benchmarking the tutor with ratings...") as status:
        figures = asdict(tutor_ratings.run(content_dir, questions_dir, progress=status.update))
    print_figures(figures, as_json=as_json, title="tutor ratings benchmark")


@app.command("search")
def bench_search(content_dir: BookOption, questions_dir: QuestionsOption, as_json: JsonOption = False) -> None:
    """Content search over HTTP on a fresh home holding the book: p50/p95/p99 beside /health/live."""
    from dataclasses import asdict

    from benchmarks import search as bench_search

    with console.status("Benchmarking content search...") as status:
        figures = asdict(bench_search.run(content_dir, questions_dir, progress=status.update))
    print_figures(figures, as_json=as_json, title="search benchmark")
