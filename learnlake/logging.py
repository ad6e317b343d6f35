"""Logging set-up for command-line entry points (library code only calls getLogger)."""

import logging

from rich.console import Console
from rich.logging import RichHandler


def configure_logging(level: str = "INFO") -> None:
    """Send log records to a rich handler on stderr; idempotent."""
    root = logging.getLogger()
    if any(isinstance(h, RichHandler) for h in root.handlers):
        root.setLevel(level)
        return
    # Logs go to stderr, so that a command's --json output on stdout stays parseable.
    handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=True, markup=False)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    # Dagster sets its own loggers back to DEBUG (get_dagster_logger) and prints a run's logs with
    # its console logger: through this handler too, every line of a run would print twice.
    handler.addFilter(lambda record: record.levelno >= logging.WARNING or not record.name.startswith("dagster"))
    root.addHandler(handler)
    root.setLevel(level)
    # Third-party libraries that are chatty at INFO.
    for noisy in ("alembic", "mlflow", "urllib3", "httpx", "dagster", "lightning", "lightning.pytorch",
                  "lightning.fabric", "sentence_transformers", "great_expectations"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
