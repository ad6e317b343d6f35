"""dbt's console output without its line per node.

dagster-dbt writes every dbt event to stdout: two lines per model and per test ("12 of 148
START ...", "12 of 148 PASS ..."), 300 of the 522 lines the 40-learner demo printed. Dagster
already records each model as a materialisation and each dbt test as an asset check, so those
lines say nothing the run does not; what is kept is everything else: the header, any warning,
failure, error or skip, and the summary ("Done. PASS=148 WARN=0 ERROR=0 ...").
"""

import io
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout

NODE_PROGRESS = re.compile(r"\d+ of \d+ (START|OK|PASS)\b")


class _WithoutNodeProgress(io.TextIOBase):
    """A text stream that passes whole lines on to ``out``, except dbt's per-node progress."""

    def __init__(self, out) -> None:
        self.out = out
        self.partial = ""

    def write(self, text: str) -> int:
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()
        kept = [line for line in lines if not NODE_PROGRESS.match(line)]
        if kept:
            self.out.write("\n".join(kept) + "\n")
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    # What callers ask of stdout besides writing, answered as the real one would.
    @property
    def encoding(self) -> str | None:
        return getattr(self.out, "encoding", None)

    def isatty(self) -> bool:
        return self.out.isatty()


@contextmanager
def without_node_progress() -> Iterator[None]:
    """Within the block, stdout drops dbt's per-node lines and passes on the rest."""
    quiet = _WithoutNodeProgress(sys.stdout)
    try:
        with redirect_stdout(quiet):
            yield
    finally:
        if quiet.partial and not NODE_PROGRESS.match(quiet.partial):
            quiet.out.write(quiet.partial)
        quiet.out.flush()
