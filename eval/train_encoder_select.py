"""Choosing the fine-tuning settings on the training queries alone: a grouped hold-out.

Claims in a BEIR set often cite the same documents (SciFact: 315 of the 600 tuning claims share a
relevant abstract with another tuning claim), and a model can gain by learning *which* documents
get cited (the query adapter in the README's levers table did exactly that). So the hold-out keeps
every group of queries linked by a shared relevant document on one side (union-find,
eval/collection_scores.folds_by_shared_document; one of five folds held out: ~480 / ~120): no
held-out query's document was ever a positive in training.

Scoring a trained model needs every chunk re-encoded, which is the cost of an ingest. For the
choice only, the held-out queries are scored over a pool: the base model's top POOL_DEPTH dense
chunks, BM25's top POOL_DEPTH chunks and the relevant documents' chunks of each held-out query,
re-encoded by the candidate model; chunks outside the pool cannot enter its dense list. The
base model's own figure is exact on that pool (its dense and BM25 lists, 50 deep each, lie inside
it). The chosen model's final figures come from a full re-index (`rag eval --dataset beir`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from eval.collection_scores import (
    ChunkTable,
    FusionConfig,
    QuerySet,
    evaluate,
    folds_by_shared_document,
    subset,
)
from eval.encoder_training import EncoderTrainConfig, chunk_inputs, fine_tune, mine
from rag.embed.torch_encoder import TorchEncoder
from rag.retrieve.fusion import FusionMethod

POOL_DEPTH = 100
HELD_OUT_FOLD = 0


@dataclass(frozen=True)
class Trial:
    config: EncoderTrainConfig
    fused_ndcg10: float  # held-out queries, the product's fusion with the trained model's dense list
    dense_ndcg10: float  # held-out queries, the trained model's dense list alone (pool)


@dataclass(frozen=True)
class Selection:
    trials: tuple[Trial, ...]
    base_fused_ndcg10: float
    base_dense_ndcg10: float
    held_out: int  # queries
    trained_on: int  # queries
    pool_chunks: int

    @property
    def best(self) -> Trial:
        return max(self.trials, key=lambda t: (t.fused_ndcg10, -t.config.epochs))

    def as_dict(self) -> dict[str, object]:
        return {"held_out_queries": self.held_out, "trained_on_queries": self.trained_on,
                "pool_chunks": self.pool_chunks, "base": {"fused_ndcg@10": round(self.base_fused_ndcg10, 4),
                                                          "dense_ndcg@10": round(self.base_dense_ndcg10, 4)},
                "trials": [{"epochs": t.config.epochs, "learning_rate": t.config.learning_rate,
                            "hard_negatives": t.config.hard_negatives, "fused_ndcg@10": round(t.fused_ndcg10, 4),
                            "dense_ndcg@10": round(t.dense_ndcg10, 4)} for t in self.trials],
                "chosen": {"epochs": self.best.config.epochs, "learning_rate": self.best.config.learning_rate,
                           "hard_negatives": self.best.config.hard_negatives}}


def pool_of(chunks: ChunkTable, qs: QuerySet, dense: np.ndarray, bm25: np.ndarray) -> np.ndarray:
    position = {d: i for i, d in enumerate(chunks.doc_ids)}
    keep: set[int] = set()
    for i, qrels in enumerate(qs.qrels):
        keep.update(np.argpartition(-dense[i], POOL_DEPTH)[:POOL_DEPTH].tolist())
        keep.update(np.argpartition(-bm25[i], POOL_DEPTH)[:POOL_DEPTH].tolist())
        docs = [position[d] for d, r in qrels.items() if r > 0 and d in position]
        keep.update(np.flatnonzero(np.isin(chunks.doc_index, docs)).tolist())
    return np.array(sorted(keep), dtype=np.int64)


def pooled_scores(model_dir: Path, inputs: list[str], pool: np.ndarray, queries: tuple[str, ...],
                  n_chunks: int) -> np.ndarray:
    """(queries, chunks) cosine from the model for pooled chunks; -2 (below any cosine) elsewhere."""
    enc = TorchEncoder(str(model_dir))
    vecs = enc.encode([inputs[i] for i in pool])
    out = np.full((len(queries), n_chunks), -2.0, dtype=np.float32)
    out[:, pool] = enc.encode(list(queries)) @ vecs.T
    return out


def select(base_model: str, chunks: ChunkTable, tune: QuerySet, dense: np.ndarray, bm25: np.ndarray,
           fusion: FusionConfig, grid: list[EncoderTrainConfig], work: Path,
           log: Callable[[str], object] = print) -> Selection:
    """Train each grid entry on the kept folds, score it on the held-out fold; epochs share a run."""
    folds = folds_by_shared_document(tune)
    train_idx, val_idx = np.flatnonzero(folds != HELD_OUT_FOLD), np.flatnonzero(folds == HELD_OUT_FOLD)
    train, val = subset(tune, train_idx, "tune-train"), subset(tune, val_idx, "tune-held-out")
    inputs = chunk_inputs(chunks)
    pool = pool_of(chunks, val, dense[val_idx], bm25[val_idx])
    dense_only = fusion.with_(bm25_weight=0.0, dense_depth=100, fusion=FusionMethod.CONVEX)
    base_fused = evaluate(dense[val_idx], bm25[val_idx], fusion, chunks, val).ndcg10
    base_dense = evaluate(dense[val_idx], bm25[val_idx], dense_only, chunks, val).ndcg10
    log(f"hold-out: {len(train.qids)} train / {len(val.qids)} held-out queries, pool {len(pool)} chunks; "
        f"base fused {base_fused:.4f}, dense {base_dense:.4f}")
    trials = []
    # configs differing only in epochs share one training run (saved after each epoch)
    runs: dict[EncoderTrainConfig, list[int]] = {}
    for cfg in grid:
        runs.setdefault(replace(cfg, epochs=1), []).append(cfg.epochs)
    for i, (cfg, epochs) in enumerate(runs.items()):
        run_cfg = replace(cfg, epochs=max(epochs))
        examples = mine(chunks, train, dense[train_idx], bm25[train_idx], run_cfg, inputs)
        out = work / f"run-{i}"
        log(f"training {run_cfg} on {len(examples)} examples ...")
        fine_tune(base_model, examples, run_cfg, out, save_epochs=tuple(epochs))
        for e in sorted(epochs):
            scores = pooled_scores(out / f"epoch-{e}", inputs, pool, val.texts, chunks.size)
            fused = evaluate(scores, bm25[val_idx], fusion, chunks, val).ndcg10
            alone = evaluate(scores, bm25[val_idx], dense_only, chunks, val).ndcg10
            trials.append(Trial(replace(cfg, epochs=e), fused, alone))
            log(f"  epochs {e}: held-out fused {fused:.4f} (base {base_fused:.4f}), dense {alone:.4f} "
                f"(base {base_dense:.4f})")
    return Selection(tuple(trials), base_fused, base_dense, len(val.qids), len(train.qids), len(pool))
