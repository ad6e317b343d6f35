import io
import json
import logging
import sys
from contextlib import contextmanager

import pytest
from rich.logging import RichHandler

from learnlake.logging import configure_logging


@contextmanager
def _our_handler(log_format: str):
    """The handler configure_logging puts on the root logger; the root is put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    for handler in [h for h in handlers if getattr(h, "learnlake", False)]:  # an app of an earlier test made one
        root.removeHandler(handler)
    try:
        configure_logging("INFO", log_format)
        yield next(h for h in root.handlers if getattr(h, "learnlake", False))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
def cli_handler():
    with _our_handler("console") as handler:
        assert isinstance(handler, RichHandler)
        yield handler


def test_json_lines_go_to_stderr_as_it_is_when_logged_not_as_it_was_configured(monkeypatch):
    # A test runner swaps stderr per test: a thread of an earlier test's server logging later must not write
    # to the closed stream (Python's "--- Logging error ---"), nor should a swapped stream miss the line.
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    with _our_handler("json") as handler:
        first.close()
        monkeypatch.setattr(sys, "stderr", second)
        handler.handle(logging.LogRecord("mail.log", logging.WARNING, __file__, 1, "connection lost", None, None))
    assert json.loads(second.getvalue())["event"] == "connection lost"


def _passes(handler: logging.Handler, logger: str, level: int) -> bool:
    return bool(handler.filter(logging.LogRecord(logger, level, __file__, 1, "a message", None, None)))


def test_dagster_run_logs_print_once_and_its_warnings_still_show(cli_handler):
    # Dagster's own console logger prints its runs' INFO lines; ours would print them again.
    assert not _passes(cli_handler, "dagster.builtin", logging.INFO)
    assert _passes(cli_handler, "dagster.builtin", logging.WARNING)
    assert _passes(cli_handler, "dagster", logging.ERROR)
    assert _passes(cli_handler, "models.tutor.indexing", logging.INFO)


def test_lightning_lines_print_once_and_its_device_banner_not_at_all(cli_handler):
    # Lightning prints with a handler of its own (and its import sets its level back to INFO).
    assert not _passes(cli_handler, "lightning.pytorch.utilities.rank_zero", logging.INFO)
    assert _passes(cli_handler, "lightning.pytorch", logging.WARNING)
    import lightning.pytorch  # noqa: F401  (its import is what resets its loggers)

    assert not logging.getLogger("lightning.pytorch.utilities.rank_zero").isEnabledFor(logging.INFO)


def test_a_json_line_has_the_bound_context_the_request_id_the_extras_and_the_exception():
    from learnlake.logging import JsonFormatter, bound_context, request_id

    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("lake.committer", logging.ERROR, __file__, 1, "committed %s", (3,), exc_info)
    record.events = 3  # as `extra={"events": 3}` sets it
    token = request_id.set("req-0001")
    try:
        with bound_context(run_id="run-1"):
            line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["event"] == "committed 3" and line["level"] == "error" and line["logger"] == "lake.committer"
    assert line["request_id"] == "req-0001" and line["run_id"] == "run-1" and line["events"] == 3
    assert "ValueError: boom" in line["exception"] and line["ts"].endswith("+00:00")
