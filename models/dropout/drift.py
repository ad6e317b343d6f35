"""Drift of the live dropout scores against the champion's training scores: the population stability index."""

import math

import numpy as np

PSI_ALERT = 0.2  # the usual reading: below 0.1 stable, 0.1 to 0.2 watch, above 0.2 the population moved


def psi(reference_shares: list[float], current_shares: list[float]) -> float:
    """Population stability index between two binned distributions (shares per bin, same bins)."""
    eps = 1e-4
    return float(sum((c - r) * math.log((c + eps) / (r + eps))
                     for r, c in zip(reference_shares, current_shares, strict=True)))


def score_drift(reference: dict, scores: np.ndarray) -> float:
    """PSI of ``scores`` in the bins of ``reference`` (``training.score_histogram``'s document)."""
    counts, _ = np.histogram(np.clip(scores, 0, 1), bins=np.array(reference["edges"]))
    return psi(reference["shares"], (counts / max(counts.sum(), 1)).tolist())


def live_score_drift(settings) -> dict | None:
    """Score every open enrolment of the published warehouse with the dropout champion, from the online store
    (as serving does), and compare with the champion's training scores; None without a champion."""
    import json

    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from feature_store.labels import open_enrolments
    from feature_store.online import online_store
    from lake.warehouse import published_warehouse
    from models.dropout.live import live_features
    from models.dropout.training import SCORE_REFERENCE
    from models.names import DROPOUT
    from models.tracking import CHAMPION, load_champion

    client = MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)
    try:
        champion = client.get_model_version_by_alias(DROPOUT, CHAMPION)
        with open(client.download_artifacts(champion.run_id, SCORE_REFERENCE)) as fh:
            reference = json.load(fh)
    except (MlflowException, OSError):
        return None
    version, pyfunc = load_champion(DROPOUT, settings)
    model = pyfunc.unwrap_python_model().model
    with published_warehouse(settings) as con:
        enrolments = open_enrolments(con)
    if not enrolments.height:
        return {"psi": None, "learners": 0, "model_version": version}
    as_of = enrolments["event_timestamp"][0]
    _, features = live_features(online_store(settings), model.feature_names,
                                list(enrolments.select("learner_id", "course_id").iter_rows()), as_of)
    return {"psi": score_drift(reference, model.predict_proba(features)), "learners": enrolments.height,
            "model_version": version}
