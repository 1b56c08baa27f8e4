"""MeasuredEncoder: a long-running server's encoder, the faster of two backends on this machine.

Which backend encodes one short question faster depends on the CPU, the thread count and the load
(ONNX Runtime won on some machines, torch on others), so the server measures instead of assuming:
it serves with the first encoder (ONNX: ready in a fraction of a second), loads the second one in
a background thread, times both on the same short questions, interleaved so that load hits both
alike, and switches to the second only when its median is lower. `report` says what was measured.
Both encoders are of one vector family (same compat key), so a switch never changes results beyond
the 1e-4 cosine the family allows.

Candidates beside torch: the same ONNX graph in a session whose threads spin between ops during a
run (`SpinWhenAlone`). Waking a parked thread for each of the ~40 parallel ops of one short question
costs more than the op on an idle core; spinning wastes a core another process needs on a busy one
(measured last round at load 14: 17.2 ms when a core happened to be free, 57.3 ms when contended, vs
24.9 ms not spinning). So it is measured like torch, spins only while a run is in flight
(`session.force_spinning_stop`), and only when no other question is being encoded in this process.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable

import numpy as np

from rag.embed.protocols import DocumentEncoder, EncoderIdentity

# Typical one-line questions; the first few calls of each backend are warm-up and not timed.
PROBES = [
    "Who chaired the quarterly work meeting?",
    "How many new first-office stores opened last year?",
    "When will the exhibition open to the public?",
    "Which companies signed the cooperation agreement?",
    "What does the new policy say about housing subsidies for young talent?",
    "Where is the humanoid robot innovation center?",
]
WARMUP_ROUNDS = 2
TIMED_ROUNDS = 5
# Seconds the measurement waits before loading the second backend. Importing torch and
# sentence-transformers is seconds of CPU with the GIL held for much of it: started at once it
# competed with the index load, uvicorn's start and the first /readyz (ready came ~1-2 s later on 2
# cores). The server is ready on the first encoder well within this delay; only then is torch loaded.
MEASURE_DELAY_S = 3.0


def median_latency_ms(encoders: list[DocumentEncoder], rounds: int = TIMED_ROUNDS) -> list[float]:
    """Median per-question latency of each encoder, measured interleaved."""
    times: list[list[float]] = [[] for _ in encoders]
    for r in range(WARMUP_ROUNDS + rounds):
        for q in PROBES:
            for i, enc in enumerate(encoders):
                t = time.perf_counter()
                enc.encode_query(q)
                if r >= WARMUP_ROUNDS:
                    times[i].append((time.perf_counter() - t) * 1000)
    return [statistics.median(t) for t in times]


class SpinWhenAlone:
    """An ONNX encoder whose session spins, used only when no other encode runs in this process;
    concurrent calls (and bulk encode) go to the parked-threads session `shared`."""

    def __init__(self, spinning: DocumentEncoder, shared: DocumentEncoder) -> None:
        if spinning.identity.compat_key != shared.identity.compat_key:
            raise ValueError("SpinWhenAlone needs two sessions of one model")
        self._spinning, self._shared = spinning, shared
        self.identity, self.dim = shared.identity, shared.dim
        self._busy = 0
        self._lock = threading.Lock()

    @property
    def max_tokens(self) -> int:
        return self._shared.max_tokens

    def count_tokens(self, text: str) -> int:
        return self._shared.count_tokens(text)

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        return self._shared.count_tokens_batch(texts)

    def cache_key(self, text: str) -> str:
        return self._shared.cache_key(text)

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._shared.encode(texts, show_progress)

    def encode_query(self, text: str) -> np.ndarray:
        with self._lock:
            alone = self._busy == 0
            self._busy += 1
        try:
            return (self._spinning if alone else self._shared).encode_query(text)
        finally:
            with self._lock:
                self._busy -= 1


class MeasuredEncoder:
    def __init__(self, first: DocumentEncoder, label: str | None = None) -> None:
        self._current = first
        self.dim = first.dim
        self._first_label = label or first.identity.backend
        self.report: dict[str, object] = {"serving": self._first_label, "measured": False}
        self._done = threading.Event()

    @classmethod
    def start(cls, first: DocumentEncoder, make_others: Callable[[], list[tuple[str, DocumentEncoder]]],
              delay_s: float = MEASURE_DELAY_S, label: str | None = None) -> MeasuredEncoder:
        """Serve with `first` now; after `delay_s`, time it against `make_others()` ((label, encoder)
        pairs) and keep the fastest."""
        enc = cls(first, label)
        threading.Thread(target=enc._measure, args=(make_others, delay_s), name="encoder-measure", daemon=True).start()
        return enc

    def _measure(self, make_others: Callable[[], list[tuple[str, DocumentEncoder]]], delay_s: float) -> None:
        try:
            time.sleep(delay_s)
            first = self._current
            candidates = [(self._first_label, first), *make_others()]
            for label, other in candidates[1:]:
                if other.identity.compat_key != first.identity.compat_key:
                    raise RuntimeError(f"{other.identity} ({label}) and {first.identity} make incompatible vectors")
            medians = median_latency_ms([enc for _, enc in candidates])
            best = min(range(len(candidates)), key=lambda i: medians[i])  # ties keep the earlier (first) one
            self.report = {
                "measured": True,
                **{f"{label}_ms": round(ms, 2) for (label, _), ms in zip(candidates, medians)},
                "serving": candidates[best][0],
            }
            self._current = candidates[best][1]  # one attribute store: requests see the old or the new encoder
        except Exception as e:  # noqa: BLE001 - the first encoder keeps serving; say why
            self.report = {**self.report, "error": f"{type(e).__name__}: {e}"}
        finally:
            self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the measurement is over (tests, benchmarks)."""
        return self._done.wait(timeout)

    @property
    def current(self) -> DocumentEncoder:
        return self._current

    @property
    def identity(self) -> EncoderIdentity:
        return self._current.identity

    @property
    def max_tokens(self) -> int:
        return self._current.max_tokens

    def count_tokens(self, text: str) -> int:
        return self._current.count_tokens(text)

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        return self._current.count_tokens_batch(texts)

    def cache_key(self, text: str) -> str:
        return self._current.cache_key(text)

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._current.encode(texts, show_progress)

    def encode_query(self, text: str) -> np.ndarray:
        return self._current.encode_query(text)
