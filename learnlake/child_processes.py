"""Worker processes that do not outlive the process that started them.

A pool's workers are stopped by the pool's shutdown, which a parent killed by SIGKILL (or the OOM killer)
never runs: they would wait on their queue for ever, under PID 1. ``exit_with_parent``, given as a
pool's ``initializer``, has each worker watch its parent's sentinel (multiprocessing's pipe, which
closes when the parent dies, on every platform) and exit then.
"""

import multiprocessing
import multiprocessing.connection
import os
import threading


def exit_with_parent() -> None:
    """In a multiprocessing child: exit as soon as the parent process is gone."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_when_ready, args=(parent.sentinel,), name="exit-with-parent",
                         daemon=True).start()


def _exit_when_ready(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)  # nothing of the parent's work is left to finish: its queue went with it
