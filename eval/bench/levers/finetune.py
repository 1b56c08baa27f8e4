"""The in-domain encoder row of the levers table: MiniLM fine-tuned on the tuning claims (`rag eval train-encoder`).

The model is trained on the tuning part only (eval/train_encoder.py), its epochs / rate / negatives
chosen by a grouped hold-out inside the tuning part (eval/train_encoder_select.py); the row's tune
figure is that hold-out's (queries whose documents were never positives in training), the report
figures come from the whole corpus re-indexed with the trained model. Because SciFact claims share
cited abstracts, the report part is also scored on its claims whose relevant abstracts never appear
in the tuning qrels: the figure that cannot come from learning which abstracts get cited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.bench.levers.data import ChunkTable, QuerySet
from eval.bench.levers.score import Figures, FusionConfig, evaluate
from eval.train_encoder import PROVENANCE_FILE
from eval.train_encoder_select import subset
from rag.retrieve.fusion import FusionMethod


def unseen_documents(tune: QuerySet, report: QuerySet) -> np.ndarray:
    """Positions of report queries none of whose relevant documents is relevant to any tuning query."""
    seen = {d for q in tune.qrels for d, r in q.items() if r > 0}
    return np.array([i for i, q in enumerate(report.qrels) if not ({d for d, r in q.items() if r > 0} & seen)],
                    dtype=np.int64)


def aligned_vectors(base: ChunkTable, other: ChunkTable) -> np.ndarray:
    """`other`'s vectors in `base`'s chunk order (same corpus, same chunking; row ids may differ)."""
    key = {(other.doc_ids[d], t, x): i for i, (d, t, x) in enumerate(zip(other.doc_index, other.titles, other.texts))}
    try:
        order = [key[(base.doc_ids[d], t, x)] for d, t, x in zip(base.doc_index, base.titles, base.texts)]
    except KeyError as e:
        raise SystemExit(f"error: the fine-tuned collection's chunks differ from the base collection's ({e}): "
                         "both must index the same corpus with the same chunking") from None
    return other.vectors[np.array(order)]


@dataclass(frozen=True)
class FinetuneFigures:
    report: Figures  # fused, whole report part
    report_dense: Figures  # the trained model's dense list alone
    unseen: Figures  # fused, report claims about abstracts absent from the tuning qrels
    unseen_base: Figures
    unseen_count: int
    provenance: dict


def score(model_dir: Path, base: ChunkTable, tuned: ChunkTable, tune: QuerySet, report: QuerySet,
          bm25_report: np.ndarray, base_dense_report: np.ndarray, cfg: FusionConfig) -> FinetuneFigures:
    from rag.embed.torch_encoder import TorchEncoder  # noqa: PLC0415

    vectors = aligned_vectors(base, tuned)
    dense = TorchEncoder(str(model_dir)).encode(list(report.texts)) @ vectors.T
    dense_only = cfg.with_(bm25_weight=0.0, dense_depth=100, fusion=FusionMethod.CONVEX)
    idx = unseen_documents(tune, report)
    part = subset(report, idx, "report-unseen")
    return FinetuneFigures(
        report=evaluate(dense, bm25_report, cfg, base, report),
        report_dense=evaluate(dense, bm25_report, dense_only, base, report),
        unseen=evaluate(dense[idx], bm25_report[idx], cfg, base, part),
        unseen_base=evaluate(base_dense_report[idx], bm25_report[idx], cfg, base, part),
        unseen_count=len(idx),
        provenance=json.loads((model_dir / PROVENANCE_FILE).read_text(encoding="utf-8")),
    )
