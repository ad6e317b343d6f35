"""The `learnlake eval ...` commands on the real datasets (or slices of them): figures and MLflow runs.

They skip only when ../shared/data is absent. The full knowledge-tracing evaluation takes
minutes and its figures are in the closing notes; here it runs on a slice of the files.
"""

import json
from pathlib import Path

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from learnlake.cli import app as cli
from models.evaluation import EXPERIMENT
from models.headline import WORDS
from models.knowledge_tracing import boosting
from tests.conftest import real_data_dir

pytestmark = pytest.mark.integration
DATA = real_data_dir()


def _data(name: str) -> Path:
    path = DATA / name
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    return path


def _run(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["eval", *args, "--json"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads(result.stdout)  # stdout is the JSON alone: progress and logs go to stderr


def _logged(settings, run_id: str) -> dict[str, float]:
    client = MlflowClient(settings.mlflow_tracking_uri)
    run = client.get_run(run_id)
    assert client.get_experiment(run.info.experiment_id).name == EXPERIMENT
    assert any(k.startswith("input.") and k.endswith(".fingerprint") for k in run.data.tags)
    return run.data.metrics


def _headline(settings, result: dict, key: str) -> dict:
    """The comparison ``key`` of the result's headline, checked to be in its MLflow run: words as tags, figures as
    metrics (what the Models page reads)."""
    figures = result["headline"][key]
    run = MlflowClient(settings.mlflow_tracking_uri).get_run(result["mlflow_run_id"])
    assert {word: run.data.tags[f"headline.{key}.{word}"] for word in WORDS} == {word: figures[word] for word in WORDS}
    for name in ("value", "baseline_value"):
        assert run.data.metrics[f"headline.{key}.{name}"] == pytest.approx(figures[name])
    return figures


def test_reviews_on_the_simulator_alone_have_a_headline_beside_the_strongest_baseline(learnlake_home):
    result = _run("reviews", "--learners", "40")
    assert set(result["headline"]) == {"truly_weakest"}, "no ASSISTments comparison without its files"
    figures = _headline(learnlake_home, result, "truly_weakest")
    picked = result["simulator"]["share_of_truly_weakest"]
    assert figures["model"] == "forgetting model" and figures["value"] == picked["forgetting_model"]
    assert figures["baseline_value"] == max(picked["lowest_share_right"], picked["random"])
    assert figures["baseline"] == ("lowest share right" if picked["lowest_share_right"] >= picked["random"] else "random")
    run = MlflowClient(learnlake_home.mlflow_tracking_uri).get_run(result["mlflow_run_id"])
    assert run.data.tags["learnlake.data"] == "simulated learners"
    # For people, after the table: the headline as a sentence.
    for_people = CliRunner().invoke(cli, ["eval", "reviews", "--learners", "40"])
    assert for_people.exit_code == 0, for_people.output
    assert f"forgetting model {figures['value']:.4f}, {figures['baseline']} {figures['baseline_value']:.4f}" in \
        " ".join(for_people.output.split())


def test_recommender_evaluation_beats_both_baselines_on_assist2009(learnlake_home):
    result = _run("recommender", "--data-dir", str(_data("assistments/assist2009")))
    baselines = result["baselines"]
    assert result["test_learners"] > 500 and result["skills"] > 50
    assert result["ndcg_at_10"] > baselines["transitions"]["ndcg_at_10"] > baselines["popularity"]["ndcg_at_10"]
    assert 0 < result["coverage"] <= 1 and result["novelty_bits"] > baselines["popularity"]["novelty_bits"]
    metrics = _logged(learnlake_home, result["mlflow_run_id"])
    assert metrics["ndcg_at_10"] == pytest.approx(result["ndcg_at_10"])
    assert metrics["baselines.transitions.ndcg_at_10"] == pytest.approx(baselines["transitions"]["ndcg_at_10"])
    assert _headline(learnlake_home, result, "ndcg_at_10") == {
        "measure": "NDCG@10 of the next skill session", "model": "variable-order Markov chain",
        "value": result["ndcg_at_10"], "baseline": "transitions", "baseline_value": baselines["transitions"]["ndcg_at_10"]}
    run = MlflowClient(learnlake_home.mlflow_tracking_uri).get_run(result["mlflow_run_id"])
    assert run.data.tags["learnlake.data"].endswith("assist2009"), "the folder the files are in"


def test_dropout_evaluation_trains_on_some_courses_and_tests_on_others(learnlake_home, tmp_path):
    source = _data("kddcup2015")
    files = sorted(source.glob("trainCourse*.csv"))
    for name, chosen in (("train", files[:4]), ("test", files[4:7])):
        (tmp_path / name).mkdir()
        for path in [*chosen, source / "truth_train.csv"]:
            (tmp_path / name / path.name).symlink_to(path)
    result = _run("dropout", "--train-dir", str(tmp_path / "train"), "--test-dir", str(tmp_path / "test"))
    assert result["split"] == "directories" and result["test_enrollments"] > 1000
    assert result["auc"] > 0.8 and 0 < result["brier"] < 0.25
    # Across courses the recency/activity baseline is close behind (see the closing note): both are reported.
    assert abs(result["auc"] - result["baselines"]["recency_activity_logistic"]["auc"]) < 0.03
    assert _logged(learnlake_home, result["mlflow_run_id"])["auc"] == pytest.approx(result["auc"])
    figures = _headline(learnlake_home, result, "test_auc")
    assert (figures["value"], figures["baseline_value"]) == (result["auc"],
                                                             result["baselines"]["recency_activity_logistic"]["auc"])
    # The three test courses one by one: an average of their own AUCs, near the pooled one here.
    assert result["test_courses"] == 3 and abs(result["auc_within_course"] - result["auc"]) < 0.05


def test_a_dropout_test_directory_without_truth_takes_its_labels_from_the_training_directory(learnlake_home,
                                                                                          tmp_path):
    source = _data("kddcup2015")
    files = sorted(source.glob("trainCourse*.csv"))
    for name, chosen in (("train", [*files[:2], source / "truth_train.csv"]), ("test", files[2:3])):
        (tmp_path / name).mkdir()
        for path in chosen:
            (tmp_path / name / path.name).symlink_to(path)
    result = _run("dropout", "--train-dir", str(tmp_path / "train"), "--test-dir", str(tmp_path / "test"))
    # Every enrolment of the test course is labelled in the training directory's truth file.
    rows = files[2].read_text().splitlines()[1:]
    assert result["test_enrollments"] == len({row.split(",")[0] for row in rows})
    assert result["auc"] > 0.75


def test_a_dropout_directory_without_labels_is_a_clear_error(learnlake_home, tmp_path):
    source = _data("kddcup2015")
    (tmp_path / "trainCourse1.csv").symlink_to(next(iter(sorted(source.glob("trainCourse*.csv")))))
    result = CliRunner().invoke(cli, ["eval", "dropout", "--train-dir", str(tmp_path)])
    assert result.exit_code == 1 and "truth_train.csv" in result.output


def test_atrisk_evaluation_reports_each_cutoff(learnlake_home):
    result = _run("atrisk", "--data-dir", str(_data("oulad")))
    aucs = [result["cutoffs"][f"day_{d}"]["auc"] for d in (30, 60, 90)]
    assert all(0.6 < a < 1 for a in aucs)
    assert aucs[0] < aucs[2], "more of the presentation known, better predictions"
    assert result["split"] == "latest presentation of each module"
    assert _logged(learnlake_home, result["mlflow_run_id"])["auc_day_90"] == pytest.approx(aucs[2])
    for day in (30, 60, 90):
        figures, cutoff = _headline(learnlake_home, result, f"auc_day_{day}"), result["cutoffs"][f"day_{day}"]
        assert (figures["value"], figures["baseline_value"]) == (cutoff["auc"], cutoff["baseline_score_and_missed"]["auc"])


def _assist2009_slice(directory: Path) -> Path:
    source = _data("assistments/assist2009")
    for name, students in (("train", 120), ("test", 60)):
        lines = (source / f"assist2009_updated_{name}.csv").read_text().splitlines()
        (directory / f"slice_{name}.csv").write_text("\n".join(lines[: 3 * students]) + "\n")
    return directory


def test_akt_is_trained_when_named(learnlake_home, tmp_path):
    result = _run("kt", "--data-dir", str(_assist2009_slice(tmp_path)), "--networks", "dkt,akt")
    assert set(result["models"]) == {"dkt", "akt", "boosted_history"} and result["baseline"] == "dkt"
    assert 0.6 < result["models"]["akt"]["auc"] < 1 and result["models"]["akt"]["rows"] == result["models"]["dkt"]["rows"]


def test_knowledge_tracing_evaluation_on_a_slice(learnlake_home, tmp_path):
    result = _run("kt", "--data-dir", str(_assist2009_slice(tmp_path)))
    assert result["skipped"] == [] and not any(f.get("stopped_by_budget") for f in result["models"].values())
    assert result["baseline"] == "dkt" and result["test_learners"] == 60
    assert set(result["models"]) == {"dkt", "dkt_recent", "attentive_dkt", "dkt_w50", "dkt_w100_h256",
                                     "attentive_dkt_seed1", "dkt_w100_h256_seed1", "recent_ensemble",
                                     "boosted_history", "hybrid_ensemble"}
    assert result["models"]["boosted_history"]["seeds"] == boosting.SEEDS
    rows = {figures["rows"] for figures in result["models"].values()}
    assert len(rows) == 1, "every model scores the same rows"
    assert all(0.6 < figures["auc"] < 1 for figures in result["models"].values())
    assert result["best"] == max(result["models"], key=lambda m: result["models"][m]["validation_auc"])
    metrics = _logged(learnlake_home, result["mlflow_run_id"])
    assert metrics["models.dkt.auc"] == pytest.approx(result["models"]["dkt"]["auc"])
    figures = _headline(learnlake_home, result, "test_auc")
    assert (figures["model"], figures["value"]) == (result["best"], result["auc"])
    assert (figures["baseline"], figures["baseline_value"]) == ("dkt", result["baseline_auc"])


def test_knowledge_tracing_evaluation_keeps_to_its_time_budget(tmp_path):
    from models.knowledge_tracing import assistments

    # No time at all: the boosted model and the baseline still run (the baseline for one epoch),
    # the ensemble's networks are skipped and named, and the best is chosen among what ran.
    result = assistments.evaluate(_assist2009_slice(tmp_path), budget_s=0)
    assert set(result["models"]) == {"boosted_history", "dkt"} and result["models"]["boosted_history"]["seeds"] == 1
    assert result["skipped"] == [name for name in assistments.MODELS if name != "dkt"]
    assert result["models"]["dkt"]["stopped_by_budget"] and result["models"]["dkt"]["best_epoch"] == 0
    assert result["best"] == max(result["models"], key=lambda m: result["models"][m]["validation_auc"])


def test_a_kt_directory_without_a_test_file_is_a_clear_error(learnlake_home, tmp_path):
    (tmp_path / "x_train.csv").write_text("1\n1\n1\n")
    result = CliRunner().invoke(cli, ["eval", "kt", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "_test.csv" in result.output


def test_training_before_any_warehouse_is_a_clear_error(learnlake_home):
    result = CliRunner().invoke(cli, ["train", "dropout"])
    assert result.exit_code == 1 and "no published warehouse" in result.output


def test_reviews_evaluation_beats_the_share_right_after_a_gap_on_assist2009(learnlake_home):
    result = _run("reviews", "--data-dir", str(_data("assistments/assist2009")), "--learners", "200")
    gap = result["assistments"]["after_gap"]
    assert gap["cases"] > 1000 and gap["min_answers_between"] > 0
    assert gap["forgetting_model"]["auc"] > gap["share_right_so_far"]["auc"] > 0.6
    assert gap["forgetting_model"]["log_loss"] < gap["share_right_so_far"]["log_loss"]
    simulated = result["simulator"]["share_of_truly_weakest"]
    assert simulated["forgetting_model"] > simulated["random"]
    metrics = _logged(learnlake_home, result["mlflow_run_id"])
    assert metrics["assistments.after_gap.forgetting_model.auc"] == pytest.approx(gap["forgetting_model"]["auc"])
    figures = _headline(learnlake_home, result, "after_gap_auc")
    assert figures["value"] == gap["forgetting_model"]["auc"]
    assert figures["baseline_value"] == max(gap["share_right_so_far"]["auc"], gap["share_right_last_3"]["auc"])


def test_search_evaluation_on_the_openstax_book_reports_hybrid_beside_bm25(learnlake_home, tmp_path):
    book = _data("openstax-python")
    for folder in sorted((book / "questions").iterdir())[::20]:  # every 20th question
        (tmp_path / folder.name).mkdir()
        for name in ("content.json", "metadata.json"):
            (tmp_path / folder.name / name).symlink_to(folder / name)
    result = _run("search", "--content-dir", str(book), "--questions-dir", str(tmp_path))
    assert result["sections"] > 100 and result["questions"] > 15
    for mode in ("hybrid", "keyword", "semantic"):
        figures = result["modes"][mode]
        assert 0 <= figures["recall_at_1"] <= figures["mrr_at_10"] <= 1 and figures["recall_at_1"] <= figures["recall_at_5"]
        assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert result["recall_at_5"] >= result["bm25_alone"]["recall_at_5"] and result["recall_at_5"] > 0.5
    assert _logged(learnlake_home, result["mlflow_run_id"])["recall_at_5"] == pytest.approx(result["recall_at_5"])
    figures = _headline(learnlake_home, result, "recall_at_5")
    assert figures["value"] == result["recall_at_5"]
    assert figures["baseline_value"] == max(result["modes"][m]["recall_at_5"] for m in ("keyword", "semantic"))


def test_practice_evaluation_on_the_openstax_book_reports_guessing_beside_length_matched_distractors(learnlake_home):
    result = _run("practice", "--content-dir", str(_data("openstax-python")))
    near, length = result["by_distractors"]["near"], result["by_distractors"]["length"]
    assert result["passages"] > 500 and near["multiple_choice"] > 500 and result["chance"] == 0.25
    for figures in (near, length):
        assert figures["settled_by_the_passage"] == 1.0, "no distractor is in the passage; the answer is"
        assert 0.25 <= figures["guessed_by_shared_words"] <= figures["guessed_without_the_passage"] <= 1
    assert near["guessed_without_the_passage"] < length["guessed_without_the_passage"] - 0.1
    assert near["guessed_by_shared_words"] < length["guessed_by_shared_words"]
    figures = _headline(learnlake_home, result, "not_guessed")
    assert figures["value"] == 1 - near["guessed_without_the_passage"]
    assert figures["baseline_value"] == 1 - length["guessed_without_the_passage"]


def test_grading_evaluation_on_the_openstax_questions_reports_agreement_beside_baselines(learnlake_home):
    result = _run("grading", "--questions-dir", str(_data("openstax-python") / "questions"))
    assert result["questions"] > 400 and result["answers"] == sum(result["answers_by_kind"].values())
    for split in ("all", "development", "held_out"):
        figures = result["agreement"][split]
        assert set(figures) == {"grader", "exact_match", "contains_reference", "word_overlap", "similarity"}
        assert all(0 <= f["accuracy"] <= 1 and -1 <= f["qwk"] <= 1 for f in figures.values())
        assert figures["grader"]["qwk"] > max(f["qwk"] for name, f in figures.items() if name != "grader")
    held_out = result["agreement"]["held_out"]["grader"]
    assert held_out["answers"] < result["answers"] / 2 and 0 < result["review_queue"]["share_sent"] < 0.5
    logged = _logged(learnlake_home, result["mlflow_run_id"])
    assert logged["agreement.held_out.grader.qwk"] == pytest.approx(held_out["qwk"])
    figures = _headline(learnlake_home, result, "held_out_qwk")
    assert figures["value"] == held_out["qwk"] and figures["baseline"] != "grader"
    assert figures["baseline_value"] == max(f["qwk"] for name, f in result["agreement"]["held_out"].items()
                                            if name != "grader")
