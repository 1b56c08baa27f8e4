"""Helpers every benchmark script shares: memory, timing, machine facts, the JSON result file.

Each benchmark prints a readable table and writes one JSON file (default under eval/results/bench/)
with its figures and the machine they were measured on, so README numbers can be traced back.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from eval.metrics import latency_summary

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SCIFACT = SHARED / "eval" / "scifact"
RESULTS = REPO / "eval" / "results" / "bench"


def rss_mb() -> float:
    """Resident memory of this process now (Linux /proc), in MB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "load_avg_1m_at_start": round(load[0], 2)}


def time_each(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[float]:
    """Wall milliseconds of fn(item) for each item, one at a time (as a user's queries arrive)."""
    out = []
    for it in items:
        t = time.perf_counter()
        fn(it)
        out.append((time.perf_counter() - t) * 1000)
    return out


def lat(ms: list[float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in latency_summary(ms).items()}


def p50_p95(ms: list[float]) -> dict[str, float]:
    """n, median and nearest-rank 95th percentile (ms, 2 decimals): the speed tables' cells."""
    s = sorted(ms)
    p95 = round(s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))], 2)
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p95_ms": p95}


def median(xs: list[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def write_result(name: str, data: dict[str, Any], out: Path | None) -> Path:
    path = out or RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"benchmark": name, "machine": machine(), **data}, indent=2) + "\n", encoding="utf-8")
    return path


def read_jsonl(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    if not path.is_file():
        raise SystemExit(f"error: {path} not found; pass the right --data folder")
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
                if limit is not None and len(rows) >= limit:
                    break
    return rows


def table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    """A plain Markdown table (pastes into the README as it is)."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines)
