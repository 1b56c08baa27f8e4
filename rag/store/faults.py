"""Named crash points for the crash-safety tests: `RAG_CRASH_AT=<name>` SIGKILLs the process there.

A real kill at an exact step proves each step's recovery; outside tests the variable is unset and
this is one dictionary look-up. `RAG_CRASH_MODE=raise` raises `SimulatedCrash` instead, for the
in-process contract kit: nothing after the crash point runs except SQLite's rollback, which a
killed process gets too (on the next open).
"""

from __future__ import annotations

import os
import signal


class SimulatedCrash(BaseException):
    """A kill at a crash point, in-process (BaseException: no `except Exception` swallows it)."""


def crash_point(name: str) -> None:
    if os.environ.get("RAG_CRASH_AT") == name:
        if os.environ.get("RAG_CRASH_MODE") == "raise":
            raise SimulatedCrash(name)
        os.kill(os.getpid(), signal.SIGKILL)
