"""Fine-tuning the embedding model: the settings, example mining and the sentence-transformers run.

`rag eval train-encoder` (eval/train_encoder.py) drives these; the grouped hold-out that chooses the
settings (eval/train_encoder_select.py) trains with them too, so they live apart from both.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval.collection_scores import ChunkTable, QuerySet
from rag.chunk.chunker import embedding_input
from rag.embed.paths import resolve_model_path
from rag.retrieve.fusion import convex

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
    # offline before the hub libraries are imported: they read these at import time
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # the training libraries (and torch) load only when a model is trained: seconds, and the `train` extra
    from datasets import Dataset  # noqa: PLC0415
    from sentence_transformers import (  # noqa: PLC0415
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.base.sampler import BatchSamplers  # noqa: PLC0415
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss  # noqa: PLC0415
    from transformers import TrainerCallback  # noqa: PLC0415

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
    shutil.rmtree(output / ".trainer", ignore_errors=True)
    write_provenance(output, {"base_model": base_model, "config": asdict(cfg), "examples": len(examples),
                              "train_seconds": round(time.perf_counter() - started, 1)})
    return output


def write_provenance(output: Path, info: dict[str, Any]) -> None:
    info = {"trained_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **info}
    (output / PROVENANCE_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
