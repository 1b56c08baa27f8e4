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

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.chunk.chunker import embedding_input
from rag.retrieve.fusion import convex

if TYPE_CHECKING:
    from eval.bench.levers.data import ChunkTable, QuerySet

PROVENANCE_FILE = "rag_encoder.json"
# Hybrid weights used to rank candidates when mining negatives: the product's default fusion
# (README, "Retrieval levers"), so negatives are what the product actually confuses.
MINING_WEIGHTS = (0.45, 0.55)


@dataclass(frozen=True)
class EncoderTrainConfig:
    """Chosen on SciFact's tuning part by a grouped hold-out (README, "In-domain encoder")."""

    epochs: int = 1
    learning_rate: float = 2e-5
    batch_size: int = 32
    hard_negatives: int = 1  # per example; 0 = in-batch negatives only
    negative_depth: int = 30  # hard negatives come from the first N chunks of the hybrid ranking
    warmup_ratio: float = 0.1
    seed: int = 12

    def validate(self) -> None:
        """Refuse values that cannot train, with the allowed range."""
        problems = []
        if not 1 <= self.epochs <= 20:
            problems.append(f"epochs {self.epochs}: use 1-20")
        if not 0 < self.learning_rate <= 1e-3:
            problems.append(f"learning rate {self.learning_rate}: use a value in (0, 1e-3], e.g. 2e-5")
        if not 2 <= self.batch_size <= 512:
            problems.append(f"batch size {self.batch_size}: use 2-512 (in-batch negatives need at least 2)")
        if not 0 <= self.hard_negatives <= 10:
            problems.append(f"hard negatives {self.hard_negatives}: use 0-10")
        if self.hard_negatives and not self.hard_negatives < self.negative_depth <= 1000:
            problems.append(f"negative depth {self.negative_depth}: use more than --hard-negatives and at most 1000")
        if not 0 <= self.warmup_ratio < 1:
            problems.append(f"warmup ratio {self.warmup_ratio}: use [0, 1)")
        if problems:
            raise ValueError("Invalid encoder training settings: " + "; ".join(problems))


@dataclass(frozen=True)
class Example:
    anchor: str  # the query
    positive: str  # a chunk of a relevant document, as the index embeds it
    negatives: tuple[str, ...]  # chunks of non-relevant documents ranked high for the query


def chunk_inputs(chunks: ChunkTable) -> list[str]:
    """The exact strings the collection embedded, one per chunk."""
    return [embedding_input(t, x) for t, x in zip(chunks.titles, chunks.texts)]


def hybrid_order(dense: np.ndarray, bm25: np.ndarray, depth: int) -> list[int]:
    """Chunk positions in the product's fused order (convex, default weights) over `depth` per list."""
    def top(scores: np.ndarray, positive: bool) -> list[tuple[int, float]]:
        k = min(depth, len(scores))
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.lexsort((idx, -scores[idx]))]
        return [(int(i), float(scores[i])) for i in idx if not positive or scores[i] > 0]

    return [i for i, _ in convex([top(dense, False), top(bm25, True)], list(MINING_WEIGHTS))]


def mine(chunks: ChunkTable, qs: QuerySet, dense: np.ndarray, bm25: np.ndarray, cfg: EncoderTrainConfig,
         inputs: list[str] | None = None) -> list[Example]:
    """One example per (query, relevant document found in the collection); see the module docstring."""
    inputs = inputs if inputs is not None else chunk_inputs(chunks)
    position = {d: i for i, d in enumerate(chunks.doc_ids)}
    chunks_of: dict[int, np.ndarray] = {}
    examples = []
    for i, (text, qrels) in enumerate(zip(qs.texts, qs.qrels)):
        relevant = {position[d] for d, r in qrels.items() if r > 0 and d in position}
        negatives: list[str] = []
        if cfg.hard_negatives:
            seen: set[int] = set()
            for c in hybrid_order(dense[i], bm25[i], cfg.negative_depth):
                doc = int(chunks.doc_index[c])
                if doc in relevant or doc in seen:
                    continue
                seen.add(doc)
                negatives.append(inputs[c])
                if len(negatives) == cfg.hard_negatives:
                    break
            if len(negatives) < cfg.hard_negatives:
                continue  # too few candidates (tiny corpus): every example must carry the same columns
        for doc in sorted(relevant):
            if doc not in chunks_of:
                chunks_of[doc] = np.flatnonzero(chunks.doc_index == doc)
            own = chunks_of[doc]
            best = int(own[np.argmax(dense[i][own])])
            examples.append(Example(text, inputs[best], tuple(negatives)))
    return examples


def fine_tune(base_model: str, examples: list[Example], cfg: EncoderTrainConfig, output: Path,
              save_epochs: tuple[int, ...] = ()) -> Path:
    """Train a copy of `base_model` (a model name the product resolves, or a folder) and save it to `output`.

    `save_epochs`: also save the model after these epochs into `output/epoch-N` (model selection
    by the caller; one run instead of one per epoch count).
    """
    import os  # noqa: PLC0415

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from datasets import Dataset  # noqa: PLC0415 - training extra only
    from sentence_transformers import (  # noqa: PLC0415
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.base.sampler import BatchSamplers  # noqa: PLC0415
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss  # noqa: PLC0415
    from transformers import TrainerCallback  # noqa: PLC0415

    from rag.embed.paths import resolve_model_path  # noqa: PLC0415

    cfg.validate()
    if len(examples) < 2:
        raise ValueError(f"{len(examples)} training example(s): at least 2 (query, relevant document) pairs are needed")
    output.mkdir(parents=True, exist_ok=True)
    columns: dict[str, list[str]] = {"anchor": [e.anchor for e in examples], "positive": [e.positive for e in examples]}
    for n in range(cfg.hard_negatives):
        columns[f"negative_{n + 1}"] = [e.negatives[n] for e in examples]
    model = SentenceTransformer(resolve_model_path(base_model), device="cpu")

    class SaveAtEpochs(TrainerCallback):
        def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            epoch = round(state.epoch or 0)
            if epoch in save_epochs:
                model.save(str(output / f"epoch-{epoch}"))

    args = SentenceTransformerTrainingArguments(
        output_dir=str(output / ".trainer"), num_train_epochs=cfg.epochs, per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate, warmup_steps=cfg.warmup_ratio,  # a float < 1 is a ratio (transformers 5)
        seed=cfg.seed, data_seed=cfg.seed,
        batch_sampler=BatchSamplers.NO_DUPLICATES, save_strategy="no", report_to="none", use_cpu=True,
        logging_steps=10, disable_tqdm=True,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=Dataset.from_dict(columns),
                                         loss=MultipleNegativesRankingLoss(model), callbacks=[SaveAtEpochs()])
    started = time.perf_counter()
    trainer.train()
    model.save(str(output))
    _remove_tree(output / ".trainer")
    write_provenance(output, {"base_model": base_model, "config": asdict(cfg), "examples": len(examples),
                              "train_seconds": round(time.perf_counter() - started, 1)})
    return output


def write_provenance(output: Path, info: dict[str, Any]) -> None:
    info = {"trained_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **info}
    (output / PROVENANCE_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def check_output(output: Path) -> None:
    """A new folder only: the embedding cache names vectors by the model's folder, so new weights in an
    old folder would be mixed with vectors the old weights made."""
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ValueError(f"{output} already exists and is not an empty folder: give a new --output folder "
                         "(collections and caches name their vectors by this folder, so it must never hold other weights)")


def _remove_tree(path: Path) -> None:
    import shutil  # noqa: PLC0415

    shutil.rmtree(path, ignore_errors=True)


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
    from eval.bench.levers.bm25 import Bm25Scorer, Bm25Variant  # noqa: PLC0415
    from eval.bench.levers.data import load_chunks, load_queries  # noqa: PLC0415
    from eval.bench.levers.score import FusionConfig  # noqa: PLC0415
    from eval.runner import EvalOptions, index_beir_corpus  # noqa: PLC0415
    from rag.embed.factory import make_encoder  # noqa: PLC0415

    check_output(req.output)
    for cfg in (req.config, *req.select_grid):
        cfg.validate()
    embedder = make_encoder(settings, "document")
    coll = index_beir_corpus(EvalOptions("beir", req.path, split=req.split, progress=False), settings, embedder)
    chunks = load_chunks(coll.collection_dir)
    qs = load_queries(req.path, Path(req.split), "train")
    log(f"{len(qs.qids)} training queries; {chunks.size} chunks of {len(chunks.doc_ids)} documents")
    dense = embedder.encode(list(qs.texts)) @ chunks.vectors.T
    scorer = Bm25Scorer(Bm25Variant(), chunks)
    bm25 = np.stack([scorer.scores(q) for q in qs.texts])
    config, selection = req.config, None
    if req.select_grid:
        from eval.train_encoder_select import select  # noqa: PLC0415

        fusion = FusionConfig(fusion=settings.fusion, rrf_k=settings.rrf_k, dense_weight=settings.dense_weight, bm25_weight=settings.bm25_weight,
                              dense_depth=settings.dense_depth, bm25_depth=settings.bm25_depth,
                              aggregation=settings.doc_aggregation, top_n=settings.doc_aggregation_top_n)
        work = req.output.parent / f".{req.output.name}.select"
        _remove_tree(work)
        try:
            selection = select(settings.embedding_model, chunks, qs, dense, bm25, fusion, list(req.select_grid),
                               work, log)
        finally:
            _remove_tree(work)
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
    import hashlib  # noqa: PLC0415

    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
