"""Bulk-encoding throughput per document encoder on real SciFact chunks and sentences, interleaved.

    nice python -m eval.bench.encode_throughput [--docs 300] [--rounds 3] [--configs torch-bf16,onnx-fp32,onnx-int8]

The ingest of a whole corpus is dominated by encoding (eval/bench/speed_scifact.py's ingest() measures the
whole ingest, one configuration after another, which load on a shared machine makes incomparable). Here
every configuration encodes the SAME texts (the chunk inputs and the sentences `rag index` would embed
for the first --docs SciFact abstracts) in alternating rounds, so load hits all alike: the ratios are
what to read on a busy machine. Also prints word pieces per second, how many sentences are identical
to a chunk input (embedding them again would be waste) and each configuration's min/median cosine to
the torch fp32 vectors. Writes eval/results/bench/<time>-encode_throughput.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.common import SCIFACT, read_jsonl, write_result


def texts_for(docs: int) -> tuple[list[str], list[str], int]:
    """(chunk inputs, sentence texts, tokens) for the first `docs` SciFact abstracts, as `rag index` makes them."""
    from rag.chunk.sentences import split_chunk_sentences
    from rag.embed.onnx_encoder import OnnxEncoder  # noqa: F401 - token counting without torch below
    from rag.models import Article
    from rag.pipeline.engine import chunk_articles, make_chunker
    from rag.settings import Settings

    settings = Settings()
    counter = _encoder("onnx-fp32", settings)
    rows = read_jsonl(SCIFACT / "corpus.jsonl", docs)
    articles = [Article(source=f"scifact/{r['_id']}", text=r["text"], title=r.get("title") or "") for r in rows]
    chunked = chunk_articles(make_chunker(counter, settings), articles)
    inputs = list(chunked.inputs.values())
    sentences: dict[str, None] = {}
    for c in chunked.chunks:
        for s, e in split_chunk_sentences(c.text):
            sentences.setdefault(c.text[s:e])
    tokens = sum(counter.count_tokens_batch(inputs)) + sum(counter.count_tokens_batch(list(sentences)))
    return inputs, list(sentences), tokens


def _encoder(name: str, settings: Any):  # noqa: ANN202 - a DocumentEncoder
    from rag.embed.factory import encoder_dir
    from rag.embed.onnx_encoder import OnnxEncoder
    from rag.embed.onnx_export import export_onnx
    from rag.embed.paths import resolve_model_path

    backend, precision = name.split("-", 1)
    if backend == "torch":
        from rag.embed.torch_encoder import TorchEncoder

        return TorchEncoder(settings.embedding_model, "cpu", settings.embed_batch_size, precision)
    path = export_onnx(settings.embedding_model, encoder_dir(settings), precision)
    return OnnxEncoder(settings.embedding_model, path, resolve_model_path(settings.embedding_model),
                       precision=precision, batch_size=settings.embed_batch_size, threads=settings.onnx_threads)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--configs", default="torch-fp32,torch-bf16,onnx-fp32,onnx-int8")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    from rag.settings import Settings

    settings = Settings()
    load0 = os.getloadavg()
    inputs, sentences, tokens = texts_for(a.docs)
    same = len(set(sentences) & set(inputs))
    names = a.configs.split(",")
    encoders = {n: _encoder(n, settings) for n in names}
    texts = inputs + sentences
    for enc in encoders.values():
        enc.encode(texts[:64])  # warm-up: first-call allocations, oneDNN primitive creation
    times: dict[str, list[float]] = {n: [] for n in names}
    vecs: dict[str, np.ndarray] = {}
    for r in range(a.rounds):
        for n in names[r % len(names):] + names[: r % len(names)]:  # rotate who goes first
            t = time.perf_counter()
            vecs[n] = encoders[n].encode(texts)
            times[n].append(time.perf_counter() - t)
            print(f"round {r} {n}: {times[n][-1]:.1f} s (load {os.getloadavg()[0]:.1f})", flush=True)
    ref = vecs.get("torch-fp32", vecs[names[0]])
    rows = []
    base = statistics.median(times[names[0]])
    for n in names:
        med = statistics.median(times[n])
        cos = (vecs[n] * ref).sum(1)
        rows.append({"config": n, "median_s": round(med, 2), "tokens_per_s": round(tokens / med),
                     "vs_first": round(med / base, 3), "cos_min": round(float(cos.min()), 5),
                     "cos_median": round(float(np.median(cos)), 6)})
    result = {"docs": a.docs, "chunk_inputs": len(inputs), "sentences": len(sentences),
              "sentences_equal_to_a_chunk_input": same, "tokens": tokens, "rows": rows,
              "load_at_start": load0, "load_at_end": os.getloadavg()}
    print(f"{len(inputs)} chunk inputs + {len(sentences)} sentences ({same} identical to a chunk input), "
          f"{tokens} word pieces; load {load0[0]:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"{'config':12} {'median s':>9} {'tok/s':>8} {'time/first':>10} {'cos min':>8} {'cos med':>9}")
    for r in rows:
        print(f"{r['config']:12} {r['median_s']:9} {r['tokens_per_s']:8} {r['vs_first']:10} {r['cos_min']:8} "
              f"{r['cos_median']:9}")
    print("wrote", write_result("encode_throughput", result, a.out))


if __name__ == "__main__":
    main()
