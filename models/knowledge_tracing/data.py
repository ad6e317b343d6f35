"""Answer sequences for knowledge tracing, and the answer groups that keep labels from leaking.

A learner's history is a sequence of rows (skill, correct). One answer that exercises several
skills becomes several rows; predicting any of them must use only what came before that
answer, or the model reads the answer's own label off a sibling row. Every row therefore
carries ``group_start``: the index of the first row of its answer. Models predict row ``t``
from the state after row ``group_start[t] - 1``, and rows of the first answer (no history)
are not scored.

In the three-line ASSISTments format a row is an answer (that is the format's definition and
the published protocol). ``adjacent_distinct_groups`` is the conservative reading for files
that may hold expanded multi-skill answers: a run of consecutive rows with distinct skills
counts as one answer.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lake.sources.datasets.assistments import read_sequences
from lake.sources.datasets.common import DatasetError


@dataclass(frozen=True)
class SplitFiles:
    train: Path
    test: Path
    valid: Path | None


def _one(data_dir: Path, pattern: re.Pattern, what: str) -> Path | None:
    found = sorted(p for p in data_dir.rglob("*.csv") if pattern.search(p.name))
    if len(found) > 1:
        raise DatasetError(f"several {what} files under {data_dir}: {[p.name for p in found]}")
    return found[0] if found else None


def split_files(data_dir: Path) -> SplitFiles:
    """The ``*_train.csv``, ``*_test.csv`` and optional ``*_valid.csv`` files of a directory."""
    train = _one(data_dir, re.compile(r"_train\.csv$"), "*_train.csv")
    test = _one(data_dir, re.compile(r"_test\.csv$"), "*_test.csv")
    if train is None or test is None:
        raise DatasetError(f"{data_dir} needs a *_train.csv and a *_test.csv in the three-line format")
    valid = _one(data_dir, re.compile(r"_valid\.csv$"), "*_valid.csv")
    return SplitFiles(train, test, valid)


@dataclass
class Sequence:
    skills: np.ndarray  # int64, 1-based skill ids (0 is padding)
    correct: np.ndarray  # int64, 0/1
    group_start: np.ndarray  # int64, index of the first row of each row's answer
    score_from: int = 0  # rows before this index are context only: read, never scored

    @property
    def scored(self) -> np.ndarray:
        """The rows every model scores: those with history before their answer, from ``score_from`` on."""
        return (self.group_start > 0) & (np.arange(len(self.skills)) >= self.score_from)


def answers(group_start: list[int]) -> list[range]:
    """The rows of each answer, in order: consecutive rows that share their ``group_start``."""
    cuts = [t for t in range(1, len(group_start)) if group_start[t] != group_start[t - 1]]
    return [range(a, b) for a, b in zip([0, *cuts], [*cuts, len(group_start)], strict=True)] if group_start else []


def one_row_per_answer(skills: np.ndarray) -> np.ndarray:
    return np.arange(len(skills), dtype=np.int64)


def adjacent_distinct_groups(skills: np.ndarray) -> np.ndarray:
    """Consecutive rows with pairwise distinct skills form one answer (decided from skills only)."""
    starts = np.zeros(len(skills), dtype=np.int64)
    start, seen = 0, set()
    for t, skill in enumerate(skills.tolist()):
        if skill in seen:
            start, seen = t, set()
        seen.add(skill)
        starts[t] = start
    return starts


def read_split(path: Path, *, conservative_groups: bool = False) -> list[Sequence]:
    grouping = adjacent_distinct_groups if conservative_groups else one_row_per_answer
    sequences = []
    for skills, correct in read_sequences(path):
        s = np.asarray(skills, dtype=np.int64)
        if len(s) and s.min() < 0:
            raise DatasetError(f"{path}: skill ids cannot be negative; found {int(s.min())}")
        sequences.append(Sequence(s, np.asarray(correct, dtype=np.int64), grouping(s)))
    return sequences


def one_based(*splits: list[Sequence] | None) -> None:
    """Shift every split's skill ids up by one, in place, when any of them uses 0 (files numbered from 0):
    the networks keep 0 for padding."""
    present = [s for split in splits if split for s in split if len(s.skills)]
    if present and min(int(s.skills.min()) for s in present) == 0:
        for sequence in present:
            sequence.skills += 1


def disjoint(train: list[Sequence], valid: list[Sequence]) -> bool:
    """True when no validation learner's sequence is also in the training file (fold files repeat it)."""
    seen = {(s.skills.tobytes(), s.correct.tobytes()) for s in train}
    return not any((s.skills.tobytes(), s.correct.tobytes()) in seen for s in valid)
