"""The record of retention runs: what was removed from which store, and when (``<home>/retention.jsonl``).

Written by the ``privacy_retention`` job, read by the Operations page.
"""

import json
from pathlib import Path

from learnlake.settings import Settings

LOG_FILE = "retention.jsonl"


def record_retention(settings: Settings, entry: dict) -> None:
    Path(settings.home).mkdir(parents=True, exist_ok=True)
    with open(Path(settings.home) / LOG_FILE, "a") as log:
        log.write(json.dumps(entry) + "\n")


def retention_runs(settings: Settings, last: int = 20) -> list[dict]:
    """The last runs, newest first."""
    path = Path(settings.home) / LOG_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()[-last:]][::-1]
