"""PNG plots of a run: recall@k / hit@k curve and the per-question latency histogram (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402

from eval.metrics import K_VALUES  # noqa: E402

RECALL_PNG = "recall_at_k.png"
LATENCY_PNG = "latency_hist.png"


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_recall(metrics: dict[str, Any], path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    r = metrics.get("retrieval") or {}
    ks = [k for k in K_VALUES if f"recall@{k}" in r]
    if ks:
        ax.plot(ks, [r[f"recall@{k}"] for k in ks], marker="o", label="recall@k")
        ax.plot(ks, [r[f"hit@{k}"] for k in ks], marker="s", linestyle="--", label="hit@k")
        ax.set_xscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("k (documents; passages for evidence-string datasets)")
        ax.legend(loc="lower right")
        ax.grid(alpha=0.3)
    else:
        ax.text(0.5, 0.5, "no relevance labels in this dataset:\nno retrieval curve", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title(title)
    _save(fig, path)


def plot_latency(records: list[dict[str, Any]], path: Path, title: str) -> None:
    key = "total" if any("total" in r.get("timings_ms", {}) for r in records) else "search"
    values = [r["timings_ms"][key] for r in records if key in r.get("timings_ms", {})]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    if values:
        ax.hist(values, bins=min(30, max(5, len(values) // 3)))
        ax.set_xlabel(f"{key} latency per question (ms)")
        ax.set_ylabel("questions")
    else:
        ax.text(0.5, 0.5, "no timings recorded", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title(title)
    _save(fig, path)


def write_plots(folder: Path, metrics: dict[str, Any], records: list[dict[str, Any]]) -> list[Path]:
    out = [folder / RECALL_PNG, folder / LATENCY_PNG]
    plot_recall(metrics, out[0], folder.name)
    plot_latency(records, out[1], folder.name)
    return out
