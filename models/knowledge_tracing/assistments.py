"""``learnlake eval kt``: next-answer correctness on three-line ASSISTments files.

Trains the DKT baseline and the attentive model on ``*_train.csv`` (early stopping on a
``*_valid.csv`` that is disjoint from it, or else on a seeded 10 % of the training learners)
and reports test AUC and accuracy for each. Every test row is predicted from the rows
before its answer only.
"""

import logging
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import accuracy_score, roc_auc_score

from models.knowledge_tracing.data import disjoint, read_split, split_files
from models.knowledge_tracing.training import KnowledgeTracer, TrainingConfig, fit

log = logging.getLogger(__name__)
BASELINE = TrainingConfig(network="dkt")
STRONGER = TrainingConfig(network="attentive_dkt")


def test_scores(tracer: KnowledgeTracer, test) -> dict[str, float]:
    probability, labels = tracer.predict(test)
    return {"auc": float(roc_auc_score(labels, probability)),
            "acc": float(accuracy_score(labels, probability >= 0.5)),
            "rows": int(len(labels))}


def evaluate(data_dir: Path, *, seed: int = 0, conservative_groups: bool = False,
             progress: bool = False, configs: tuple[TrainingConfig, ...] = (BASELINE, STRONGER)) -> dict:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    files = split_files(data_dir)
    train = read_split(files.train, conservative_groups=conservative_groups)
    test = read_split(files.test, conservative_groups=conservative_groups)
    valid = read_split(files.valid, conservative_groups=conservative_groups) if files.valid else None
    if valid is not None and not disjoint(train, valid):
        log.info("%s repeats training learners: holding out 10 %% of the training file instead", files.valid.name)
        valid = None
    if valid is None:
        order = np.random.default_rng(seed).permutation(len(train))
        cut = len(order) // 10
        valid, train = [train[i] for i in order[:cut]], [train[i] for i in order[cut:]]
    n_skills = int(max(s.skills.max() for s in train + valid + test if len(s.skills)))
    models = {}
    for config in configs:
        started = time.perf_counter()
        tracer = fit(train, valid, n_skills, TrainingConfig(**{**config.__dict__, "seed": seed}), progress=progress)
        models[config.network] = {**test_scores(tracer, test), "validation_auc": tracer.validation_auc,
                                  "best_epoch": tracer.best_epoch, "train_s": time.perf_counter() - started}
    best = max(models, key=lambda name: models[name]["auc"])
    baseline = configs[0].network
    return {
        "dataset": data_dir.name,
        "train_learners": len(train), "valid_learners": len(valid), "test_learners": len(test),
        "skills": n_skills,
        "answer_groups": "adjacent distinct skills" if conservative_groups else "one row per answer",
        "baseline": baseline, "best": best,
        "auc": models[best]["auc"], "acc": models[best]["acc"],
        "models": models,
    }
