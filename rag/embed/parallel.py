"""Encode batches on side-by-side ONNX sessions: the bulk path of both ONNX encoders.

Each session's worker takes the next batch until none is left (batches come longest first, so the
sessions finish together) and writes its rows of `out`. The batches are those one session would run,
so the vectors are too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def run_batches(batches: Sequence[list[int]], sessions: Sequence[Any], out: np.ndarray,
                run: Callable[[list[int], Any], np.ndarray]) -> np.ndarray:
    """Fill `out[rows] = run(rows, session)` for every batch of row indices, one worker per session."""
    if len(sessions) <= 1 or len(batches) <= 1:
        for rows in batches:
            out[rows] = run(rows, sessions[0] if sessions else None)
        return out
    # Imported here: a one-shot `rag ask` encodes one question and never needs a pool.
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415
    from queue import Empty, SimpleQueue  # noqa: PLC0415

    todo: SimpleQueue[list[int]] = SimpleQueue()
    for rows in batches:
        todo.put(rows)

    def work(session: Any) -> None:
        while True:
            try:
                rows = todo.get(block=False)
            except Empty:
                return
            out[rows] = run(rows, session)  # disjoint rows: no lock needed

    with ThreadPoolExecutor(len(sessions)) as pool:
        for done in [pool.submit(work, s) for s in sessions]:
            done.result()  # re-raises a worker's error here
    return out
