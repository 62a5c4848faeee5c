"""Keep a long-running command going until Ctrl-C or SIGTERM (the scheduler, the bounce receiver).

    stop = stop_on_sigterm()   # before the service starts, so an early SIGTERM is not lost
    service.start()
    try:
        wait_until(stop)
    finally:
        service.stop()
"""

from __future__ import annotations

import signal
import threading
from types import FrameType


def stop_on_sigterm() -> threading.Event:
    """An event that SIGTERM sets. The handler only sets it, so the shutdown the caller runs
    in its `finally` (waiting for running jobs, stopping a server) runs outside the handler."""
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    return stop


def wait_until(stop: threading.Event) -> None:
    """Return once `stop` is set or Ctrl-C is pressed."""
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
