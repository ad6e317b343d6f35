"""ASSISTments in the three-line knowledge-tracing format -> ``answered`` events.

Each student is three lines: the number of answers, the skill ids (comma-separated), the
correctness of each answer (0/1). The format has no timestamps and no question ids: answers
get one minute apart from a fixed start, in their order, and the skill stands for the
question (``object_id`` = ``<dataset>:skill:<id>``). The split (train/test) goes into the
payload. Fold files (``*_train1.csv``, ``*_valid1.csv``...) repeat the train file and are
read only when a directory has nothing else.
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import polars as pl

from lake.sources.datasets.common import (
    DatasetError,
    DatasetLoad,
    dataset_learner_id,
    event_ids,
    to_bronze,
)

NAME = "assistments"
START = datetime(2009, 9, 1, tzinfo=UTC)
FOLD = re.compile(r"_(train|valid)\d+\.csv$")


def sequence_files(data_dir: Path) -> list[Path]:
    files = sorted(data_dir.rglob("*.csv"))
    whole = [f for f in files if not FOLD.search(f.name)]
    if not (whole or files):
        raise DatasetError(f"no three-line .csv files under {data_dir}")
    return whole or files


def read_sequences(path: Path) -> list[tuple[list[int], list[int]]]:
    """(skills, correctness) per student, checked line by line."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) % 3:
        raise DatasetError(f"{path}: {len(lines)} lines, not a multiple of three (count, skills, answers)")
    students = []
    for start in range(0, len(lines), 3):
        try:
            count = int(lines[start])
            skills = [int(x) for x in lines[start + 1].split(",") if x != ""]
            answers = [int(x) for x in lines[start + 2].split(",") if x != ""]
        except ValueError as exc:
            raise DatasetError(f"{path}:{start + 1}: not integers: {exc}") from exc
        if not (count == len(skills) == len(answers)):
            raise DatasetError(f"{path}:{start + 1}: {count} answers announced, {len(skills)} skills, "
                               f"{len(answers)} answers given")
        if set(answers) - {0, 1}:
            raise DatasetError(f"{path}:{start + 3}: correctness must be 0 or 1")
        students.append((skills, answers))
    return students


def skill_names(data_dir: Path) -> dict[int, str]:
    names = {}
    for path in data_dir.rglob("*skill_mapping.txt"):
        for line in path.read_text().splitlines():
            skill, _, name = line.partition("\t")
            if skill.strip().isdigit():
                names[int(skill)] = name.strip()
    return names


def load(data_dir: Path, pseudonym_key: str) -> DatasetLoad:
    files = sequence_files(data_dir)
    names = skill_names(data_dir)
    rows: dict[str, list] = {k: [] for k in ("key", "learner_id", "object_id", "result_success", "timestamp",
                                             "payload")}
    for path in files:
        split = "test" if "test" in path.stem else "train"
        for student, (skills, answers) in enumerate(read_sequences(path)):
            learner = dataset_learner_id(NAME, f"{path.stem}:{student}", pseudonym_key)
            for position, (skill, correct) in enumerate(zip(skills, answers, strict=True)):
                rows["key"].append(f"{path.stem}:{student}:{position}")
                rows["learner_id"].append(learner)
                rows["object_id"].append(f"{NAME}:skill:{skill}")
                rows["result_success"].append(bool(correct))
                rows["timestamp"].append(START + timedelta(minutes=position))
                rows["payload"].append(orjson.dumps({"split": split, "file": path.name, "skill_id": skill,
                                                     "skill_name": names.get(skill), "position": position}).decode())
    events = pl.DataFrame(rows).with_columns(
        event_ids(NAME, rows["key"]),
        pl.lit("answered").alias("verb"),
        pl.lit("question").alias("object_type"),
        pl.lit(NAME).alias("course_id"),
        pl.col("result_success").cast(pl.Float64).alias("result_score"),
        pl.col("timestamp").dt.cast_time_unit("us"),
    ).drop("key")
    return DatasetLoad(NAME, to_bronze(events, NAME), files=files + sorted(data_dir.rglob("*skill_mapping.txt")))
