"""Run a Python module with a memory probe beside it: where does a server's RSS go?

    python -m eval.bench.memprobe OUT.jsonl [--tracemalloc] [--every 2] [--growth-every 30] -- -m rag serve ...

Every `--every` seconds one JSON line is appended to OUT.jsonl with, side by side:
- `rss_mib`: what the kernel charges the process (/proc/self/status VmRSS);
- `py_mib`: memory held by Python objects (tracemalloc; only with `--tracemalloc`, which slows
  every allocation, so run it for attribution, not for latency);
- glibc's own view (`mallinfo2`): `malloc_in_use_mib` (live native + Python blocks),
  `malloc_free_mib` (freed but kept inside the heaps: fragmentation or arena caches),
  `mmap_mib` (large blocks mapped directly, returned on free), and `arenas` (from malloc_info);
- `threads`.
RSS minus (in use + free + mmap) is memory glibc does not manage (model weights mapped by ONNX
Runtime / FAISS, thread stacks, the interpreter's own arenas). With `--tracemalloc`, SIGUSR1 takes a
baseline snapshot (the soak sends it at the end of its warm-up); then every `--growth-every` seconds
(default 30) a line lists the 20 source lines whose Python allocations grew most since that baseline.

No route, no flag in the product: the bench starts the server through this wrapper
(`python -m eval.bench.soak --memprobe`).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import runpy
import signal
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

MIB = 1024 * 1024


class MallInfo2(ctypes.Structure):  # glibc >= 2.33, struct mallinfo2 (all size_t)
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = MallInfo2
        return libc
    except (OSError, AttributeError):  # not glibc (musl, macOS): RSS and tracemalloc only
        return None


def _arenas(libc: ctypes.CDLL) -> int | None:
    """Number of malloc heaps (main arena + thread arenas), parsed from malloc_info's XML."""
    with tempfile.NamedTemporaryFile(suffix=".xml") as tmp:
        libc.fopen.restype = ctypes.c_void_p
        stream = libc.fopen(tmp.name.encode(), b"w")
        if not stream:
            return None
        libc.malloc_info(0, ctypes.c_void_p(stream))
        libc.fclose(ctypes.c_void_p(stream))
        return len(re.findall(r"<heap nr=", Path(tmp.name).read_text()))


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sample(libc: ctypes.CDLL | None, t0: float) -> dict:
    row: dict = {"t": round(time.monotonic() - t0, 1), "rss_mib": round(_rss_mib(), 1),
                 "threads": threading.active_count(), "os_threads": len(os.listdir("/proc/self/task"))}
    if tracemalloc.is_tracing():
        row["py_mib"] = round(tracemalloc.get_traced_memory()[0] / MIB, 1)
    if libc is not None:
        info = libc.mallinfo2()
        row.update(malloc_in_use_mib=round(info.uordblks / MIB, 1), malloc_free_mib=round(info.fordblks / MIB, 1),
                   mmap_mib=round(info.hblkhd / MIB, 1), arenas=_arenas(libc))
    return row


class Probe:
    """Samples every `every` seconds; with tracemalloc, growth since a baseline taken on SIGUSR1
    (the soak sends it when its warm-up ends) every `growth_every` seconds."""

    def __init__(self, out: Path, every: float, growth_every: float = 60.0) -> None:
        self.out, self.every, self.growth_every = out, every, growth_every
        self.libc, self.t0 = _libc(), time.monotonic()
        self.stop = threading.Event()
        self.baseline: tracemalloc.Snapshot | None = None
        self.lock = threading.Lock()

    def write(self, row: dict) -> None:
        with self.lock, self.out.open("a") as f:
            f.write(json.dumps(row) + "\n")

    def take_baseline(self, *_: object) -> None:
        if tracemalloc.is_tracing():
            self.baseline = tracemalloc.take_snapshot()
            self.write({"t": round(time.monotonic() - self.t0, 1), "baseline": True})

    def growth(self) -> None:
        if self.baseline is None or not tracemalloc.is_tracing():
            return
        top = tracemalloc.take_snapshot().compare_to(self.baseline, "lineno")[:20]
        self.write({"t": round(time.monotonic() - self.t0, 1), "py_growth_top": [
            {"site": str(s.traceback), "kib": round(s.size_diff / 1024, 1), "count": s.count_diff} for s in top]})

    def run(self) -> None:
        next_growth = self.growth_every
        while not self.stop.wait(self.every):
            self.write(sample(self.libc, self.t0))
            if self.baseline is not None and time.monotonic() - self.t0 >= next_growth:
                self.growth()
                next_growth = time.monotonic() - self.t0 + self.growth_every


def main() -> None:
    args = sys.argv[1:]
    if "--" not in args:
        sys.exit(__doc__)
    own, rest = args[: args.index("--")], args[args.index("--") + 1:]
    if not own or len(rest) < 2 or rest[0] != "-m":
        sys.exit(__doc__)
    out = Path(own[0])
    every = float(own[own.index("--every") + 1]) if "--every" in own else 2.0
    if "--tracemalloc" in own:
        tracemalloc.start(1)  # one frame: the allocating line; deeper stacks slowed the server ~10x
    probe = Probe(out, every, float(own[own.index("--growth-every") + 1]) if "--growth-every" in own else 30.0)
    signal.signal(signal.SIGUSR1, probe.take_baseline)
    threading.Thread(target=probe.run, daemon=True, name="memprobe").start()
    sys.argv = [rest[1], *rest[2:]]
    try:
        runpy.run_module(rest[1], run_name="__main__", alter_sys=True)
    finally:
        probe.stop.set()


if __name__ == "__main__":
    main()
