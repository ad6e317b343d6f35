"""A stop asked for by a signal (SIGTERM, SIGINT, a parent's death), as a plain flag.

A signal handler must take no lock: ``threading.Event.set`` takes one, and a second SIGTERM arriving while
the handler of the first held it deadlocked the lake's committer for ever (seen in the production-like test,
whose killed replica's committer got the parent-death SIGTERM and another). Raising ``KeyboardInterrupt``
instead cuts short whatever the process was doing, such as stopping its children.
"""

import time


class StopRequest:
    STEP_S = 0.1  # how soon a sleeping process notices the request

    def __init__(self) -> None:
        self.requested = False

    def request(self, *_signal) -> None:
        """Ask for the stop; also a signal handler (``signal.signal(SIGTERM, stop.request)``)."""
        self.requested = True

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True as soon as a stop is requested."""
        deadline = time.monotonic() + seconds
        while not self.requested and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, self.STEP_S))
        return self.requested
