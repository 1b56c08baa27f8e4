"""`rag eval compare RUN_A RUN_B`: metric and configuration differences between two results folders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.report import load_run

# Metrics where a smaller number is better (latency); everything else: larger is better.
LOWER_IS_BETTER = ("latency_ms.",)


@dataclass(frozen=True)
class MetricDiff:
    name: str
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def better(self) -> str:
        """'b' when run B is better, 'a' when A is, '' when equal or not comparable."""
        d = self.delta
        if not d:
            return ""
        lower = self.name.startswith(LOWER_IS_BETTER)
        return "b" if (d < 0) == lower else "a"


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def metric_diffs(a: dict[str, Any], b: dict[str, Any]) -> list[MetricDiff]:
    """Numeric metrics of either run (index bookkeeping left out), in run A's order."""
    fa = {k: v for k, v in flatten(a["metrics"]).items() if not k.startswith("index.")}
    fb = {k: v for k, v in flatten(b["metrics"]).items() if not k.startswith("index.")}
    names = [k for k in fa if _numeric(fa[k]) or _numeric(fb.get(k))]
    names += [k for k in fb if k not in fa and _numeric(fb[k])]
    return [MetricDiff(k, fa.get(k) if _numeric(fa.get(k)) else None, fb.get(k) if _numeric(fb.get(k)) else None)
            for k in names]


def config_diffs(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Configuration keys whose values differ (what explains the metric differences)."""
    skip = ("git.", "machine.", "path", "index.updated_at", "index.generation", "settings.collection")
    fa, fb = flatten(a.get("config", {})), flatten(b.get("config", {}))
    return [(k, fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb))
            if fa.get(k) != fb.get(k) and not k.startswith(skip)]


def compare_runs(run_a: Path, run_b: Path) -> tuple[list[MetricDiff], list[tuple[str, Any, Any]]]:
    a, b = load_run(run_a), load_run(run_b)
    return metric_diffs(a, b), config_diffs(a, b)
