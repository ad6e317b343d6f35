"""ML engineers: registered models with their champion and challengers, held-out metrics across
versions, the lake versions each run read, feature freshness, drift of the live dropout scores,
where the recommended items sit against simulated learners' true level, and each evaluation on
real data (``learnlake eval ...``) beside its baseline.

The registry is read with MLflow's client; live scores come from the API (every active
enrolment's risk, no one named, with the signed-in ML engineer's or admin's token); freshness
from the online store's SQLite file.
"""

import itertools
import json
import math
import sqlite3
from datetime import UTC, datetime

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from dashboards.api import ApiError, get
from dashboards.evaluation_views import headline_rows, history_chart, newest_chart, repeated_measures
from dashboards.session import current_user
from dashboards.tables import show_table
from learnlake.settings import get_settings

CACHE_S = 60
CHAMPION = "champion"
DROPOUT = "learnlake-dropout"
SCORE_REFERENCE = "score_reference.json"  # logged by the dropout training run
NEXT_ITEMS = "learnlake-next-items"
LEVEL_DOCUMENT = "level.json"  # logged by the next-items training run on simulated data
LEVEL_SERIES = {"recommended": "recommended, top 3", "popular_unseen": "most popular unopened",
                "review": "reviews put first", "reviewed_next": "new item after review"}
PSI_WARNING = 0.2  # the usual reading: below 0.1 stable, 0.1 to 0.2 watch, above 0.2 the population moved


def _client() -> MlflowClient:
    uri = get_settings().mlflow_tracking_uri
    return MlflowClient(uri, uri)


def _registry_exists() -> bool:
    uri = get_settings().mlflow_tracking_uri
    return not uri.startswith("sqlite:///") or get_settings().home.joinpath(uri.removeprefix("sqlite:///")).exists()


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def versions() -> pd.DataFrame:
    """Every version of every registered model, with its aliases, held-out metrics and input versions."""
    client, rows = _client(), []
    for model in client.search_registered_models():
        champion = str(client.get_registered_model(model.name).aliases.get(CHAMPION))  # searches omit aliases
        for version in client.search_model_versions(f"name = '{model.name}'"):
            run = client.get_run(version.run_id)
            rows.append({
                "model": model.name, "version": int(version.version),
                "role": CHAMPION if str(version.version) == champion else "challenger",
                "registered": datetime.fromtimestamp(version.creation_timestamp / 1000, UTC),
                **{f"metric:{k}": v for k, v in run.data.metrics.items() if k.startswith("test_")},
                **{f"input:{k.removeprefix('input.').removesuffix('.version')}": v
                   for k, v in run.data.params.items() if k.startswith("input.") and k.endswith(".version")},
                "run_id": version.run_id})
    return pd.DataFrame(rows).sort_values(["model", "version"]) if rows else pd.DataFrame()


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def evaluation_headlines() -> pd.DataFrame:
    return headline_rows(_client())


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def feature_freshness() -> pd.DataFrame:
    path = get_settings().home / "online_features.db"
    if get_settings().redis_url or not path.exists():
        return pd.DataFrame()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        rows = con.execute("select view, count(*), max(json_extract(document, '$.feature_timestamp')) "
                           "from online_features group by view order by view").fetchall()
    now = datetime.now(UTC)
    return pd.DataFrame([{"feature view": view, "entities": n, "latest value": latest,
                          "age (days)": round((now - datetime.fromisoformat(latest)).total_seconds() / 86400, 1)}
                         for view, n, latest in rows])


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def run_document(run_id: str, name: str) -> dict | None:
    """A JSON document a training run logged, or None when it logged none by that name."""
    try:
        path = _client().download_artifacts(run_id, name)
    except (MlflowException, OSError):
        return None
    with open(path) as fh:
        return json.load(fh)


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def live_scores(token: str) -> list[float]:
    """Today's dropout risks of every active enrolment, as the API serves them (no one named)."""
    try:
        return get("/api/v1/models/dropout/live-scores", token)["scores"]
    except ApiError as exc:
        if exc.status == 503:  # no model, or no warehouse yet
            return []
        raise


def bin_labels(edges: list[float]) -> list[str]:
    return [f"{a:.1f}-{b:.1f}" for a, b in itertools.pairwise(edges)]


def psi(reference: list[float], current: list[float]) -> float:
    """Population stability index between two binned distributions (shares per bin)."""
    eps = 1e-4
    return float(sum((c - r) * math.log((c + eps) / (r + eps)) for r, c in zip(reference, current, strict=True)))


def drift_section(table: pd.DataFrame, token: str) -> None:
    st.subheader("Drift of the live dropout scores")
    champion = table[(table["model"] == DROPOUT) & (table["role"] == CHAMPION)]
    if champion.empty:
        st.info("No data yet: no dropout model is champion.")
        return
    reference = run_document(champion["run_id"].iloc[0], SCORE_REFERENCE)
    if reference is None:
        st.info("This champion's run logged no reference scores (trained before they were kept): retrain it.")
        return
    scores = live_scores(token)
    if not scores:
        st.info("No data yet: no active learner to score.")
        return
    counts, _ = np.histogram(np.clip(scores, 0, 1), bins=np.array(reference["edges"]))
    current = (counts / counts.sum()).tolist()
    value = psi(reference["shares"], current)
    # Which way it moved: the training mean from the bins' middles (the reference keeps shares, not scores).
    edges = np.array(reference["edges"])
    trained_mean = float(np.dot(reference["shares"], (edges[:-1] + edges[1:]) / 2))
    (st.warning if value > PSI_WARNING else st.success)(
        f"PSI {value:.3f} between the live scores of {len(scores):,} learners and the training scores of "
        f"{reference['rows']:,} learner-weeks (warning above {PSI_WARNING}). Mean risk now "
        f"{float(np.mean(scores)):.0%}, about {trained_mean:.0%} in training.")
    bins = bin_labels(reference["edges"])
    shares = pd.DataFrame({"risk": bins * 2, "share": reference["shares"] + current,
                           "scores": ["training"] * len(bins) + ["live"] * len(bins)})
    st.altair_chart(alt.Chart(shares).mark_bar(opacity=0.7).encode(
        x=alt.X("risk:N", title="Risk"), y=alt.Y("share:Q", title="Share", stack=None),
        color=alt.Color("scores:N", title=None), xOffset="scores:N"), width="stretch")


def level_section(table: pd.DataFrame) -> None:
    st.subheader("Level of the recommended items")
    champion = table[(table["model"] == NEXT_ITEMS) & (table["role"] == CHAMPION)]
    level = run_document(champion["run_id"].iloc[0], LEVEL_DOCUMENT) if not champion.empty else None
    if level is None:
        st.info("No data yet: the next-items champion logged no level check (it needs simulated learners, "
                "whose true mastery is known).")
        return
    st.caption(f"The true chance of success of what learners were recommended at the hold-out, by the simulator's "
               f"mastery; practice pays most near {level['zone']:.1f}.")
    bins = bin_labels(level["edges"])
    rows = [{"true chance of success": b, "share": n / max(sum(counts), 1), "items": LEVEL_SERIES.get(series, series)}
            for series, counts in level["counts"].items() for b, n in zip(bins, counts, strict=True)]
    for pair in (("recommended", "popular_unseen"), ("review", "reviewed_next")):
        shown = pd.DataFrame([r for r in rows if r["items"] in {LEVEL_SERIES[s] for s in pair}])
        if shown.empty or not sum(level["counts"].get(pair[0], [])):
            continue
        st.altair_chart(alt.Chart(shown).mark_bar(opacity=0.7).encode(
            x=alt.X("true chance of success:N", title="True chance of success"),
            y=alt.Y("share:Q", title="Share", stack=None), color=alt.Color("items:N", title=None),
            xOffset="items:N"), width="stretch")


def evaluations_section() -> None:
    st.subheader("Evaluations on real data")
    with st.spinner("Reading the evaluations..."):
        runs = evaluation_headlines()
    if runs.empty:
        st.info("No data yet: no evaluation on real data has been run here (`learnlake eval kt --data-dir ...` and "
                "the others, README: Evaluations on real data).")
        return
    st.caption("What each `learnlake eval` scored, beside the strongest simple method on the same data (every "
               "figure: higher is better). The newest run of each evaluation on each data set:")
    st.altair_chart(newest_chart(runs), width="stretch")
    if repeated := repeated_measures(runs):
        chosen = st.selectbox("Over its runs", list(repeated))
        st.altair_chart(history_chart(runs, *repeated[chosen]), width="stretch")
    shown = runs.drop(columns=["key"])
    three = st.column_config.NumberColumn(format="%.3f")
    show_table(shown, column_config={"value": three, "baseline value": three, "gain": three})
    st.download_button("Download CSV", shown.to_csv(index=False), "evaluations.csv", "text/csv")


ACRONYMS = {"auc": "AUC", "pr": "PR", "ndcg": "NDCG", "mrr": "MRR", "rmse": "RMSE", "mae": "MAE", "qwk": "QWK"}


def metric_label(column: str) -> str:
    """A registry table's metric column as a reader names it: "metric:test_pr_auc" reads "test PR AUC"."""
    return " ".join(ACRONYMS.get(word, word) for word in column.removeprefix("metric:").split("_"))


def registry_section(table: pd.DataFrame) -> None:
    model = st.selectbox("Model", sorted(table["model"].unique()))
    shown = table[table["model"] == model].dropna(axis=1, how="all")
    metrics = [c for c in shown.columns if c.startswith("metric:")]
    inputs = {c: f"{c.removeprefix('input:')} (version read)" for c in shown.columns if c.startswith("input:")}
    show_table(shown, column_config={metric: metric_label(metric) for metric in metrics} | inputs)
    st.download_button("Download CSV", shown.to_csv(index=False), f"{model}-versions.csv", "text/csv")
    if metrics:
        metric = st.selectbox("Held-out metric", metrics, format_func=metric_label)
        st.altair_chart(alt.Chart(shown).mark_line(point=alt.OverlayMarkDef(size=60)).encode(
            # Field names with a colon: spelled out, not in Altair's "field:type" shorthand.
            x=alt.X("version:O", title="Version", axis=alt.Axis(labelAngle=0)),
            y=alt.Y(field=metric, type="quantitative", title=metric_label(metric),
                    scale=alt.Scale(zero=False), axis=alt.Axis(format=".3~f")),
            color=alt.Color("role:N", title=None),
            tooltip=["version:O", "role:N", alt.Tooltip(field=metric, type="quantitative")]), width="stretch")


def freshness_section() -> None:
    st.subheader("Feature freshness")
    freshness = feature_freshness()
    if freshness.empty:
        st.info("No data yet: the online store has not been materialised here (or it is Redis).")
    else:
        show_table(freshness)


user = current_user()
st.title("Models")
if not _registry_exists():
    st.info("No data yet: no model has been trained and nothing evaluated (`learnlake pipeline run`, "
            "`learnlake eval ...`).")
    st.stop()
with st.spinner("Reading the model registry..."):
    table = versions()
if table.empty:
    st.info("No data yet: no model is registered.")
else:
    registry_section(table)
    freshness_section()
    drift_section(table, user.token)
    level_section(table)
evaluations_section()
