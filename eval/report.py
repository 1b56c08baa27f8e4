"""Write a run's results folder: metrics.json (config + metrics), questions.jsonl, report.md.

The folder name is `<timestamp>-<dataset>-<config>`; files are written to a temporary name and
renamed, so a folder never holds a half-written metrics.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from eval.corpus import safe_name
from rag.files import atomic_write

METRICS_FILE = "metrics.json"
QUESTIONS_FILE = "questions.jsonl"
REPORT_FILE = "report.md"
FAILURES_SHOWN = 10


def results_folder(output: Path, dataset: str, config_name: str) -> Path:
    """A new folder `<output>/<YYYYmmdd-HHMMSS>-<dataset>-<config>`; suffixed -2, -3... if taken."""
    base = output / f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_name(dataset)}-{safe_name(config_name)}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    folder.mkdir(parents=True)
    return folder


_atomic_write = atomic_write  # rag.files: the one write-to-temp-then-rename helper


def write_run(folder: Path, config: dict[str, Any], metrics: dict[str, Any], records: list[dict[str, Any]]) -> None:
    _atomic_write(folder / QUESTIONS_FILE, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    _atomic_write(folder / METRICS_FILE, json.dumps({"config": config, "metrics": metrics}, indent=2) + "\n")
    _atomic_write(folder / REPORT_FILE, render_report(folder.name, config, metrics, records))


def load_run(folder: Path) -> dict[str, Any]:
    """metrics.json of a results folder, or a clear error naming what is missing."""
    path = folder / METRICS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: pass a results folder written by `rag eval`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON ({e.msg}); re-run the evaluation") from e
    if not isinstance(data, dict) or "metrics" not in data:
        raise ValueError(f"{path} has no 'metrics': pass a results folder written by `rag eval`")
    return data


def fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def _table(rows: list[tuple[str, Any]], head: tuple[str, str] = ("metric", "value")) -> list[str]:
    out = [f"| {head[0]} | {head[1]} |", "|---|---|"]
    out += [f"| {k} | {fmt(v)} |" for k, v in rows]
    return out


def _config_rows(config: dict[str, Any]) -> list[tuple[str, Any]]:
    s = config.get("settings", {})
    idx = config.get("index") or {}
    rows: list[tuple[str, Any]] = [
        ("dataset / split", f"{config['dataset']} / {config['split']}"),
        ("questions", config["questions"]),
        ("answer mode", config.get("answer_mode") or "retrieval only"),
        ("embedding model", idx.get("model", s.get("embedding_model"))),
        ("chunk tokens / overlap", f"{s.get('chunk_tokens')} / {s.get('chunk_overlap_tokens')}"),
        ("vector index", idx.get("vector_index")),
        ("k (answer) / depth (retrieval metrics)", f"{s.get('k')} / {config.get('depth')}"),
        ("fusion, weights dense / bm25, rrf_k", f"{s.get('fusion')}, {s.get('dense_weight')} / {s.get('bm25_weight')}, {s.get('rrf_k')}"),
        ("reranker", s.get("reranker_path") or "none"),
        ("evidence model", s.get("evidence_model_path") or "shipped (rag/answer/evidence_model.json)"),
        ("verify min similarity", s.get("verify_min_similarity")),
        ("llm model / endpoint", f"{s.get('llm_model')} / {s.get('llm_base_url') or 'none'}"),
        ("git commit", (config.get("git") or {}).get("commit", "")[:12]),
    ]
    return rows


def _metric_rows(metrics: dict[str, Any]) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for section in ("retrieval", "answer"):
        for k, v in (metrics.get(section) or {}).items():
            if isinstance(v, dict):
                rows += [(f"{section}.{k}.{kk}", vv) for kk, vv in v.items()]
            else:
                rows.append((f"{section}.{k}", v))
    return rows


# The figures issue 32's targets name, per language: retrieval by gold answer and by evidence, then answers.
LANG_ROWS: tuple[tuple[str, str], ...] = (
    ("retrieval", "answer_hit@5"), ("retrieval", "hit@5"), ("answer", "accuracy"), ("answer", "false_refusals"),
    ("answer", "unanswerable_refused"), ("answer", "citation_precision"), ("answer", "citation_recall"),
)


def lang_table(metrics: dict[str, Any]) -> list[str]:
    """A markdown table, one column per language and one for all questions; [] for a set without languages."""
    by_lang = metrics.get("by_lang") or {}
    if not by_lang:
        return []
    columns = [*by_lang.items(), ("all", metrics)]
    lines = ["| metric | " + " | ".join(name for name, _ in columns) + " |", "|---" * (len(columns) + 1) + "|",
             "| questions | " + " | ".join(fmt(m.get("questions")) for _, m in columns) + " |"]
    for section, key in LANG_ROWS:
        values = [(m.get(section) or {}).get(key) for _, m in columns]
        if any(v is not None for v in values):
            lines.append(f"| {section}.{key} | " + " | ".join(fmt(v) for v in values) + " |")
    return lines


def _failures(records: list[dict[str, Any]]) -> list[str]:
    """Questions worth reading first: errors, wrong answers, retrieval misses."""
    out = []
    for r in records:
        why = None
        if "error" in r:
            why = f"error: {r['error']}"
        elif (r.get("scores") or {}).get("correct") is False:
            why = "refused" if r["scores"]["refused"] else "answer lacks the gold"
        elif r.get("unanswerable") and r.get("scores") and not r["scores"]["refused"]:
            why = "answered an unanswerable question"
        elif (r.get("scores") or {}).get("repeats_fake"):
            why = "repeated the planted fake answer"
        elif r.get("retrieval") and r["retrieval"].get("hit@5") == 0.0:
            why = "nothing relevant in the top 5"
        elif r.get("retrieval") and r["retrieval"].get("answer_hit@5") == 0.0:
            why = "no gold answer in the top 5"
        if why:
            out.append(f"- `{r['qid']}` {r['question'][:90]!r}: {why}")
    return out


def render_report(name: str, config: dict[str, Any], metrics: dict[str, Any], records: list[dict[str, Any]]) -> str:
    lines = [f"# Evaluation {name}", "", "## Configuration", ""]
    lines += _table(_config_rows(config), ("setting", "value"))
    lines += ["", "## Metrics", ""]
    lines += _table(_metric_rows(metrics))
    by_lang = lang_table(metrics)
    if by_lang:
        lines += ["", "## By language", ""] + by_lang
    lines += ["", "## Latency (ms)", "", "| stage | p50 | p95 | mean | max |", "|---|---|---|---|---|"]
    for stage, s in metrics.get("latency_ms", {}).items():
        lines.append(f"| {stage} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | {s['mean_ms']:.1f} | {s['max_ms']:.1f} |")
    idx = metrics.get("index", {})
    lines += ["", "## Index", "",
              f"documents +{idx.get('documents_added', 0)} -{idx.get('documents_removed', 0)} "
              f"={idx.get('documents_unchanged', 0)}; chunks embedded {idx.get('chunks_embedded', 0)}, "
              f"from cache {idx.get('chunks_from_cache', 0)}"]
    if metrics.get("errors"):
        lines += ["", f"**{metrics['errors']} question(s) failed with an error** (see questions.jsonl); "
                  "they are left out of the answer metrics."]
    for note in metrics.get("notes", []):
        lines.append(f"- note: {note}")
    fails = _failures(records)
    if fails:
        lines += ["", f"## Questions to look at ({min(len(fails), FAILURES_SHOWN)} of {len(fails)})", ""]
        lines += fails[:FAILURES_SHOWN]
    plots = ["recall_at_k.png", "latency_hist.png"]
    lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in plots]
    return "\n".join(lines) + "\n"
