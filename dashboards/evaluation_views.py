"""Each ``learnlake eval`` run's headline (``models/headline.py``) as the Models page shows it: every comparison,
newest run first, a chart of the newest run of each evaluation beside its baseline, and one measure over its runs."""

from datetime import UTC, datetime

import altair as alt
import pandas as pd
from mlflow import MlflowClient

# The dashboards may not import models/: these two names are written again here (a test holds them equal).
EVALUATIONS = "learnlake-evaluations"  # models.evaluation.EXPERIMENT: every `learnlake eval` run
HEADLINE = "headline"  # models.headline.HEADLINE: a run's main figures beside their baselines, as tags and metrics


def headline_rows(client: MlflowClient) -> pd.DataFrame:
    """One row per comparison in the headline of every evaluation run, newest run first; empty when none."""
    experiment = client.get_experiment_by_name(EVALUATIONS)
    if experiment is None:
        return pd.DataFrame()
    rows = []
    # Finished runs only: one that failed while it was logged may hold a headline's words without its figures.
    for run in client.search_runs([experiment.experiment_id], filter_string="attributes.status = 'FINISHED'",
                                  order_by=["attributes.start_time DESC"], max_results=1000):
        tags, metrics = run.data.tags, run.data.metrics
        for key in sorted(k.split(".")[1] for k in tags if k.startswith(f"{HEADLINE}.") and k.endswith(".measure")):
            named = f"{HEADLINE}.{key}"
            rows.append({"run at": datetime.fromtimestamp(run.info.start_time / 1000, UTC),
                         "evaluation": tags.get("learnlake.evaluation", ""), "data": tags.get("learnlake.data", ""),
                         "key": key, "measure": tags[f"{named}.measure"], "model": tags[f"{named}.model"],
                         "value": metrics.get(f"{named}.value"), "baseline": tags[f"{named}.baseline"],
                         "baseline value": metrics.get(f"{named}.baseline_value"), "run_id": run.info.run_id})
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame.insert(frame.columns.get_loc("run_id"), "gain", frame["value"] - frame["baseline value"])
    return frame


def newest_chart(runs: pd.DataFrame) -> alt.Chart:
    """Bars of the newest run of each evaluation on each data set (``headline_rows``): LearnLake beside its baseline."""
    newest = runs.drop_duplicates(["evaluation", "data", "key"])  # the runs come newest first
    # Two lines a label ("|" splits them): what was evaluated on what, then the measure.
    newest = newest.assign(what=newest["evaluation"] + " on " + newest["data"] + "|" + newest["measure"])
    return alt.Chart(_both(newest)).mark_bar().encode(
        y=alt.Y("what:N", title=None, axis=alt.Axis(labelLimit=400, labelExpr="split(datum.label, '|')")),
        x=alt.X("figure:Q", title="Figure"),
        color=alt.Color("method:N", title=None), yOffset="method:N",
        tooltip=["what:N", "name:N", alt.Tooltip("figure:Q", format=".3f"), "run at:T"])


def _both(rows: pd.DataFrame) -> pd.DataFrame:
    """Each row twice: LearnLake's figure (``method``, ``name``, ``figure``) and its baseline's."""
    return pd.concat([rows.assign(method="LearnLake", name=rows["model"], figure=rows["value"]),
                      rows.assign(method="baseline", name=rows["baseline"], figure=rows["baseline value"])])


def repeated_measures(runs: pd.DataFrame) -> dict[str, tuple[str, str, str]]:
    """The measures run more than once on the same data, by label: what ``history_chart`` can draw."""
    counted = runs.groupby(["evaluation", "data", "key"], sort=False)["measure"].agg(["first", "size"]).reset_index()
    return {f"{r.evaluation} on {r.data}: {r.first}": (r.evaluation, r.data, r.key)
            for r in counted.itertuples() if r.size > 1}


def history_chart(runs: pd.DataFrame, evaluation: str, data: str, key: str) -> alt.Chart:
    """One measure over its runs (``repeated_measures``): LearnLake's figure and its baseline's, run by run."""
    rows = runs[(runs["evaluation"] == evaluation) & (runs["data"] == data) & (runs["key"] == key)]
    return alt.Chart(_both(rows)).mark_line(point=True).encode(
        x=alt.X("run at:T", title="Run"), y=alt.Y("figure:Q", title="Figure", scale=alt.Scale(zero=False)),
        color=alt.Color("method:N", title=None),
        tooltip=["name:N", alt.Tooltip("figure:Q", format=".3f"), "run at:T", "run_id:N"])
