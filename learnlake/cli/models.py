"""``learnlake train`` and ``learnlake eval``: train a model on the warehouse; evaluate on real datasets."""

from pathlib import Path
from typing import Annotated

import typer

from learnlake.cli.common import (
    BookOption,
    DataDirOption,
    JsonOption,
    QuestionsOption,
    clear_errors,
    console,
    print_figures,
)
from learnlake.settings import get_settings

eval_app = typer.Typer(help="Evaluate the models on real datasets; each run is logged to MLflow.", no_args_is_help=True)


def _report_evaluation(kind: str, result: dict, inputs: dict[str, list[Path]], *, as_json: bool,
                       params: dict | None = None) -> None:
    from models.evaluation import log_evaluation
    from models.headline import HEADLINE

    result["mlflow_run_id"] = log_evaluation(kind, result, inputs=inputs, params=params)
    print_figures(result, as_json=as_json, title=f"{kind} evaluation")
    if not as_json:  # the headline again, as sentences
        for c in result.get(HEADLINE, {}).values():
            console.print(f"[bold]{c['measure']}[/bold]: {c['model']} {c['value']:.4f}, {c['baseline']} "
                          f"{c['baseline_value']:.4f} ({c['value'] - c['baseline_value']:+.4f})")


TRAINABLE = {
    "dropout": "models.dropout.training",
    "knowledge-tracing": "models.knowledge_tracing.lake_training",
    "recommender": "models.recommender.training",
    "popularity": "models.recommender.popularity",
}


def train(
    model: Annotated[str, typer.Argument(help=f"One of: {', '.join(TRAINABLE)}.")],
    as_json: JsonOption = False,
) -> None:
    """Train a model on the published warehouse, as its Dagster asset does: log, register, maybe promote."""
    import importlib

    if model not in TRAINABLE:
        console.print(f"[red]unknown model {model!r}; choose one of {', '.join(TRAINABLE)}[/red]")
        raise typer.Exit(2)
    settings = get_settings()
    if not Path(settings.published_warehouse_path).exists():
        console.print(f"[red]not trained: no published warehouse at {settings.published_warehouse_path} yet; "
                      "run `learnlake pipeline run` first[/red]")
        raise typer.Exit(1)
    module = importlib.import_module(TRAINABLE[model])
    with clear_errors("not trained"), console.status(f"Training {model}..."):
        result = module.train(settings)
    figures = {"model": model, "mlflow_run_id": result.run_id, "version": result.version,
               "promoted": result.promotion.promoted, "promotion": result.promotion.reason, **result.metrics}
    print_figures(figures, as_json=as_json, title=f"{model} training")


@eval_app.command("kt")
def eval_kt(
    data_dir: DataDirOption,
    as_json: JsonOption = False,
    seed: Annotated[int, typer.Option(help="Seed of the validation split and of training.")] = 0,
    conservative_groups: Annotated[bool, typer.Option(
        help="Count a run of consecutive rows with distinct skills as one answer (for files that may hold "
             "expanded multi-skill answers).")] = False,
    budget_minutes: Annotated[float, typer.Option(
        help="Time for the whole evaluation: networks that would not fit are cut short or skipped (and named).",
        min=1)] = 13.0,
    networks: Annotated[str | None, typer.Option(
        help="Only these members, comma-separated (default: all of them and their ensembles; akt only when "
             "named).")] = None,
    processes: Annotated[int, typer.Option(
        help="Train each network data-parallel in this many processes (Lightning DDP over gloo).", min=1)] = 1,
) -> None:
    """Knowledge tracing: train DKT and the attentive model on *_train.csv, report test AUC and accuracy."""
    from models.knowledge_tracing import assistments
    from models.knowledge_tracing.data import split_files

    chosen = None
    if networks:
        names = [name.strip() for name in networks.split(",")]
        known = assistments.MODELS | assistments.ON_REQUEST
        if unknown := [n for n in names if n not in known]:
            console.print(f"[red]unknown networks {unknown}; known: {', '.join(known)}[/red]")
            raise typer.Exit(2)
        chosen = {name: known[name] for name in names}
    with clear_errors("cannot evaluate"):
        files = split_files(data_dir)
        console.print(f"Training knowledge tracing on {files.train.name}, testing on {files.test.name}...")
        result = assistments.evaluate(data_dir, seed=seed, conservative_groups=conservative_groups, progress=True,
                                      budget_s=budget_minutes * 60, models=chosen, processes=processes)
    inputs = {"train": [files.train], "test": [files.test]} | ({"valid": [files.valid]} if files.valid else {})
    _report_evaluation("kt", result, inputs, as_json=as_json, params={
        "seed": seed, "conservative_groups": conservative_groups, "budget_minutes": budget_minutes,
        "networks": networks or "all", "processes": processes})


@eval_app.command("dropout")
def eval_dropout(
    train_dir: Annotated[Path, typer.Option("--train-dir", help="KDD Cup 2015 course files to train on.",
                                            exists=True, file_okay=False)],
    test_dir: Annotated[Path | None, typer.Option("--test-dir", help="Course files to test on (default: a "
                                                  "seeded 80/20 split of the training enrolments).",
                                                  exists=True, file_okay=False)] = None,
    as_json: JsonOption = False,
    seed: Annotated[int, typer.Option(help="Seed of the split and of the model.")] = 0,
) -> None:
    """Dropout: train on KDD Cup 2015 course files, report AUC, PR-AUC and Brier score beside a baseline."""
    from lake.sources.datasets.kddcup2015 import course_files
    from models.dropout import kddcup

    with clear_errors("cannot evaluate"), console.status("Training and testing the dropout model..."):
        result = kddcup.evaluate(train_dir, test_dir, seed=seed)
    inputs = {"train": course_files(train_dir) + sorted(train_dir.rglob("truth_train.csv"))}
    if test_dir is not None:
        inputs["test"] = course_files(test_dir) + sorted(test_dir.rglob("truth_train.csv"))
    _report_evaluation("dropout", result, inputs, as_json=as_json, params={"seed": seed})


@eval_app.command("atrisk")
def eval_atrisk(
    data_dir: DataDirOption,
    as_json: JsonOption = False,
    seed: Annotated[int, typer.Option(help="Seed of the model (and of the split when no module repeats).")] = 0,
) -> None:
    """At-risk: predict Fail or Withdrawn on OULAD from what is known by day 30, 60 and 90; AUC per cut-off."""
    from models.dropout import oulad

    with clear_errors("cannot evaluate"), console.status("Training and testing the at-risk model at each cut-off..."):
        result = oulad.evaluate(data_dir, seed=seed)
    _report_evaluation("atrisk", result, {"data": oulad.input_files(data_dir)}, as_json=as_json,
                       params={"seed": seed})


@eval_app.command("recommender")
def eval_recommender(
    data_dir: DataDirOption,
    as_json: JsonOption = False,
    seed: Annotated[int, typer.Option(help="Seed of the validation split that picks the settings.")] = 0,
) -> None:
    """What to study next: rank each test learner's next skill session; NDCG@10 beside two baselines."""
    from models.knowledge_tracing.data import split_files
    from models.recommender import assistments

    with clear_errors("cannot evaluate"), console.status("Evaluating the sequential recommender..."):
        files = split_files(data_dir)
        result = assistments.evaluate(data_dir, seed=seed)
    _report_evaluation("recommender", result, {"train": [files.train], "test": [files.test]}, as_json=as_json,
                       params={"seed": seed})


def _book_files(content_dir: Path) -> list[Path]:
    return sorted(content_dir.rglob("*.cnxml")) + sorted(content_dir.rglob("*.collection.xml"))


def _report_book_evaluation(kind: str, evaluate, content_dir: Path, questions_dir: Path, *, as_json: bool) -> None:
    """Run ``evaluate(content_dir, questions_dir, progress=...)`` on a book and its questions, and report it."""
    with clear_errors("cannot evaluate"):
        result = evaluate(content_dir, questions_dir, progress=not as_json)
    inputs = {"content": _book_files(content_dir), "questions": sorted(questions_dir.rglob("*.json"))}
    _report_evaluation(kind, result, inputs, as_json=as_json)


@eval_app.command("rag")
def eval_rag(content_dir: BookOption, questions_dir: QuestionsOption, as_json: JsonOption = False) -> None:
    """The tutor's retrieval: recall@1/@5, MRR and latency for dense, BM25 and hybrid search."""
    from models.tutor import rag_evaluation

    _report_book_evaluation("rag", rag_evaluation.evaluate, content_dir, questions_dir, as_json=as_json)


@eval_app.command("reviews")
def eval_reviews(
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="ASSISTments three-line files (*_train.csv, *_test.csv); without it, the simulator only.",
        exists=True, file_okay=False)] = None,
    learners: Annotated[int, typer.Option(min=20, max=20_000, help="Simulated learners (half fit, half judge).")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the simulation and of its split.")] = 7,
    as_json: JsonOption = False,
) -> None:
    """Reviews: next-answer AUC after a gap on ASSISTments, and how well the review list targets the truly weakest
    skills of simulated learners, each beside its baselines."""
    from models.knowledge_tracing.data import split_files
    from models.recommender import review_evaluation

    with clear_errors("cannot evaluate"), console.status("Evaluating the reviews..."):
        result = review_evaluation.evaluate(data_dir, learners=learners, seed=seed)
        files = split_files(data_dir) if data_dir else None
    inputs = {"train": [files.train], "test": [files.test]} if files else {}
    _report_evaluation("reviews", result, inputs, as_json=as_json, params={"learners": learners, "seed": seed})


@eval_app.command("search")
def eval_search(content_dir: BookOption, questions_dir: QuestionsOption, as_json: JsonOption = False) -> None:
    """Content search: the gold sections' recall@1/@5, MRR and latency, hybrid beside BM25 alone and semantic alone."""
    from models.search import evaluation

    _report_book_evaluation("search", evaluation.evaluate, content_dir, questions_dir, as_json=as_json)


@eval_app.command("practice")
def eval_practice(content_dir: BookOption, as_json: JsonOption = False) -> None:
    """Practice questions made from a book: how often a reader who has not read the passage picks the right option
    by its meaning alone, distractors from nearby passages beside distractors alike in length only."""
    from models.practice import evaluation

    with clear_errors("cannot evaluate"), console.status("Making the book's practice questions..."):
        result = evaluation.evaluate(content_dir)
    _report_evaluation("practice", result, {"content": _book_files(content_dir)}, as_json=as_json)


@eval_app.command("grading")
def eval_grading(questions_dir: QuestionsOption, as_json: JsonOption = False) -> None:
    """Short-answer grading on a set built from H5P questions: accuracy and quadratic weighted kappa beside an
    exact match, word overlap and similarity, on the development and held-out splits."""
    from models.assessment import evaluation

    with clear_errors("cannot evaluate"):
        result = evaluation.evaluate(questions_dir, progress=not as_json)
    _report_evaluation("grading", result, {"questions": sorted(questions_dir.rglob("*.json"))}, as_json=as_json)
