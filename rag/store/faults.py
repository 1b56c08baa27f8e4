"""Named crash points for the crash-safety test: `RAG_CRASH_AT=<name>` SIGKILLs the process there.

A real kill at an exact step proves each step's recovery; outside tests the variable is unset and
this is one dictionary look-up.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("RAG_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
