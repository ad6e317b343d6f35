"""An evaluation's headline: its main figures, each beside the baseline it must beat.

Every ``learnlake eval`` result carries one under ``HEADLINE``, a short key to each comparison
(``{"test_auc": comparison(...)}``). ``models.evaluation.log_evaluation`` keeps the figures as
MLflow metrics and the words as tags, and the ML engineers' Models page charts them, so a reader
sees what LearnLake scored on real data and what the simple method scored on the same rows. Every
measure in a headline is one where higher is better.
"""

HEADLINE = "headline"
WORDS = ("measure", "model", "baseline")  # kept as tags; ``value`` and ``baseline_value`` as metrics


def comparison(measure: str, model: str, value: float, baseline: str, baseline_value: float) -> dict:
    """``measure`` (in words, higher is better) of ``model`` beside that of ``baseline`` on the same data."""
    return {"measure": measure, "model": model, "value": float(value), "baseline": baseline,
            "baseline_value": float(baseline_value)}


def against_strongest(measure: str, model: str, value: float, baselines: dict[str, float]) -> dict:
    """The comparison with whichever of ``baselines`` scored highest: the one the model must beat (named in words:
    ``share_right_so_far`` as "share right so far")."""
    strongest = max(baselines, key=baselines.__getitem__)
    return comparison(measure, model, value, strongest.replace("_", " "), baselines[strongest])
