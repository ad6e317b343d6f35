"""``learnlake tutor``: the tutor's index of course content, and a question from the shell."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from learnlake.cli.common import JsonOption, clear_errors, console
from learnlake.settings import get_settings

app = typer.Typer(help="The tutor's index of course content.", no_args_is_help=True)


@app.command("index")
def tutor_index(as_json: JsonOption = False) -> None:
    """Index the course content in the lake for the tutor: embed new and edited passages, drop removed ones."""
    from dataclasses import asdict

    from models.tutor.indexing import index_lake_content

    with clear_errors("cannot index"), console.status("Indexing course content for the tutor..."):
        reports = index_lake_content(get_settings())
    if as_json:
        import json

        print(json.dumps({course: asdict(report) for course, report in reports.items()}))
        return
    table = Table("course", "added", "updated", "removed", "unchanged", title="Tutor index")
    for course, report in reports.items():
        table.add_row(course, *(f"{getattr(report, name):,}" for name in ("added", "updated", "removed", "unchanged")))
    Console().print(table)


@app.command("ask")
def tutor_ask(
    question: Annotated[str, typer.Argument(help="The learner's question.")],
    course_id: Annotated[str, typer.Option("--course-id", help="The course whose material answers it.")],
    as_json: JsonOption = False,
) -> None:
    """Ask the tutor from the shell: an answer from the course's indexed material, with citations."""
    from dataclasses import asdict

    from models.tutor.answers import answer_generator
    from models.tutor.index import TutorIndex, qdrant_client
    from models.tutor.retrieval import Retriever

    settings = get_settings()
    with clear_errors("cannot answer"):
        client = qdrant_client(settings)
        try:
            passages = Retriever(TutorIndex(client)).search(course_id, question, k=5)
            answer = answer_generator(settings).answer(question, passages)
        finally:
            client.close()
    if as_json:
        import json

        print(json.dumps(asdict(answer)))
        return
    out = Console()  # course text is printed as it is: "s[i]" is code, not Rich markup
    out.print(answer.text, markup=False, highlight=False)
    for citation in answer.citations:
        out.print(f"[{citation.number}] {citation.section} ({citation.location})",
                  markup=False, highlight=False)
