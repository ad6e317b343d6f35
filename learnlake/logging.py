"""Logging set-up for command-line entry points (library code only calls getLogger)."""

import logging

from rich.console import Console
from rich.logging import RichHandler

PRINT_THEIR_OWN = ("dagster", "lightning")  # libraries that print their records with handlers of their own


def configure_logging(level: str = "INFO") -> None:
    """Send log records to a rich handler on stderr; idempotent."""
    root = logging.getLogger()
    if any(isinstance(h, RichHandler) for h in root.handlers):
        root.setLevel(level)
        return
    # Logs go to stderr, so that a command's --json output on stdout stays parseable.
    handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=True, markup=False)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    # Dagster and Lightning set their loggers back to DEBUG or INFO when they are used or imported,
    # and print with handlers of their own: through this handler too, each line would print twice.
    handler.addFilter(lambda record: record.levelno >= logging.WARNING
                      or not record.name.startswith(PRINT_THEIR_OWN))
    root.addHandler(handler)
    root.setLevel(level)
    # Third-party libraries that are chatty at INFO.
    # Lightning's "GPU available: False" lines come from rank_zero loggers, whose level its import
    # leaves alone (it resets "lightning.pytorch" itself).
    for noisy in ("alembic", "mlflow", "urllib3", "httpx", "dagster", "lightning", "lightning.pytorch",
                  "lightning.fabric", "lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero",
                  "sentence_transformers", "great_expectations"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
