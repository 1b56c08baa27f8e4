"""`rag eval train-encoder`: fine-tune the embedding model on your own labelled queries (in-domain).

What it learns from: a BEIR-style folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) and a
split (a qrels split name or a file of query ids, eval/splits.py) naming the queries to train on.
Keep the queries you report on out of that split: a figure on training queries says nothing.

1. The corpus is indexed exactly as `rag eval --dataset beir` indexes it (same chunks, same
   collection under the index folder, reused), so the training texts are the strings the index
   embeds (`title\\nchunk`, rag/chunk/chunker.embedding_input).
2. Examples are mined from that collection (`mine`): for each (query, relevant document) pair the
   positive is the document's chunk closest to the query under the current model; the hard
   negatives are the best-ranked chunks of other documents in the product's own hybrid ranking
   (dense + BM25, convex fusion), one per document.
3. sentence-transformers' trainer fine-tunes the model with MultipleNegativesRankingLoss (every
   other positive and negative in the batch is a negative too; the no-duplicates batch sampler keeps
   a text from being its own negative), then the folder is written: a plain sentence-transformers
   model (same architecture, same query cost) plus `rag_encoder.json` saying what it was trained on.

Use it as a collection's model with `RAG_EMBEDDING_MODEL=DIR` and a new collection (`rag index`):
the manifest records DIR as the model, so the collection is always queried with it (and ONNX
exports are keyed by the weights' digest, so the torch-free query path uses the same weights).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from eval.collection_scores import Bm25Scorer, FusionConfig, load_chunks, load_queries
from eval.encoder_training import PROVENANCE_FILE, EncoderTrainConfig, fine_tune, mine, write_provenance
from eval.runner import EvalOptions, index_beir_corpus
from eval.train_encoder_select import select
from rag.embed.factory import make_encoder


def check_output(output: Path) -> None:
    """A new folder only: the embedding cache names vectors by the model's folder, so new weights in an
    old folder would be mixed with vectors the old weights made."""
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ValueError(f"{output} already exists and is not an empty folder: give a new --output folder "
                         "(collections and caches name their vectors by this folder, so it must never hold other weights)")


@dataclass(frozen=True)
class TrainRequest:
    """What `rag eval train-encoder` was asked: a BEIR folder, the training split, the output folder."""

    path: Path
    split: str
    output: Path
    config: EncoderTrainConfig = EncoderTrainConfig()
    select_grid: tuple[EncoderTrainConfig, ...] = ()  # non-empty: choose among these by the grouped hold-out


def train_command(req: TrainRequest, settings: Any, log: Any = print) -> dict[str, Any]:
    """Index (or reuse) the corpus, mine examples for the split's queries, optionally choose the settings
    by a grouped hold-out (eval/train_encoder_select.py), train on every split query, write the folder."""
    check_output(req.output)
    for cfg in (req.config, *req.select_grid):
        cfg.validate()
    embedder = make_encoder(settings, "document")
    coll = index_beir_corpus(EvalOptions("beir", req.path, split=req.split, progress=False), settings, embedder)
    chunks = load_chunks(coll.collection_dir)
    qs = load_queries(req.path, Path(req.split), "train")
    log(f"{len(qs.qids)} training queries; {chunks.size} chunks of {len(chunks.doc_ids)} documents")
    dense = embedder.encode(list(qs.texts)) @ chunks.vectors.T
    scorer = Bm25Scorer(chunks)
    bm25 = np.stack([scorer.scores(q) for q in qs.texts])
    config, selection = req.config, None
    if req.select_grid:
        fusion = FusionConfig(fusion=settings.fusion, rrf_k=settings.rrf_k, dense_weight=settings.dense_weight, bm25_weight=settings.bm25_weight,
                              dense_depth=settings.dense_depth, bm25_depth=settings.bm25_depth,
                              aggregation=settings.doc_aggregation, top_n=settings.doc_aggregation_top_n)
        work = req.output.parent / f".{req.output.name}.select"
        shutil.rmtree(work, ignore_errors=True)
        try:
            selection = select(settings.embedding_model, chunks, qs, dense, bm25, fusion, list(req.select_grid),
                               work, log)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        config = selection.best.config
        log(f"chosen on the hold-out: {config}")
    examples = mine(chunks, qs, dense, bm25, config)
    log(f"training on {len(examples)} examples from all {len(qs.qids)} queries ...")
    fine_tune(settings.embedding_model, examples, config, req.output)
    info = json.loads((req.output / PROVENANCE_FILE).read_text(encoding="utf-8"))
    info.update({"dataset": req.path.resolve().name, "split": str(req.split), "queries": len(qs.qids),
                 "query_ids_sha256": _digest(qs.qids)})
    if selection is not None:
        info["selection"] = selection.as_dict()
    write_provenance(req.output, info)
    return info


def grid(epochs: tuple[int, ...], rates: tuple[float, ...], negatives: tuple[int, ...],
         base: EncoderTrainConfig) -> tuple[EncoderTrainConfig, ...]:
    """Every combination, each validated (a bad value fails before any training starts)."""
    out = tuple(replace(base, epochs=e, learning_rate=r, hard_negatives=n)
                for r in rates for n in negatives for e in epochs)
    for cfg in out:
        cfg.validate()
    return out


def _digest(ids: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
