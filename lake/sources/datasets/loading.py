"""Loads a dataset into the lake, once per content: the entry point of ``learnlake datasets load``."""

from dataclasses import dataclass
from pathlib import Path

from lake import writers
from lake.sources.datasets import assistments, kddcup2015, oulad
from lake.sources.datasets.common import DatasetError, fingerprint
from learnlake.settings import Settings, get_settings

LOADERS = {assistments.NAME: assistments.load, kddcup2015.NAME: kddcup2015.load, oulad.NAME: oulad.load}


@dataclass(frozen=True)
class LoadReport:
    dataset: str
    events: int
    labels: dict[str, int]
    appended: bool  # False: this content was loaded before, nothing was added
    app_id: str


def load_dataset(name: str, data_dir: Path, settings: Settings | None = None) -> LoadReport:
    """Read ``data_dir`` with the ``name`` loader and append it to the lake (idempotent per file content)."""
    settings = settings or get_settings()
    if name not in LOADERS:
        raise DatasetError(f"unknown dataset {name!r}; loadable: {', '.join(sorted(LOADERS))}")
    if not data_dir.is_dir():
        raise DatasetError(f"{data_dir} is not a directory")
    loaded = LOADERS[name](data_dir, settings.pseudonym_key.get_secret_value())
    app_id = f"dataset:{name}:{fingerprint(loaded.files)}"
    # Labels first, events last: a crash in between redoes both, and the ids skip repeats.
    for table, rows in loaded.labels.items():
        writers.append(table, rows, app_id=app_id, batch_version=1, settings=settings)
    appended = writers.append("bronze.events", loaded.events, app_id=app_id, batch_version=1, settings=settings)
    return LoadReport(name, loaded.events.num_rows, {t: r.num_rows for t, r in loaded.labels.items()}, appended,
                      app_id)
