"""Haystack 3.x with its defaults on SciFact: DocumentSplitter() + SentenceTransformers embedders
(package sentence-transformers-haystack) + InMemoryDocumentStore, as two Pipelines.

Run in .venv-haystack (make peers):
    HF_HUB_OFFLINE=1 .venv-haystack/bin/python eval/bench/peers/haystack_scifact.py [--limit N]
Prints one JSON line: system, ingest_s, chunks, query_p50_ms, query_p95_ms, ndcg10, n_queries.
ingest_s covers the indexing pipeline run (split, embed, write); warm-up (model load) is timed
apart. Query time is one query pipeline run (embed the query, then retrieve).
"""

from __future__ import annotations

import time

import peer_common as pc


def main() -> None:
    args = pc.parse_args("Haystack")
    evalset = pc.load(args)
    assert evalset.corpus is not None  # load_beir always returns one

    from haystack import Document, Pipeline
    from haystack.components.preprocessors import DocumentSplitter
    from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
    from haystack.components.writers import DocumentWriter
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )

    model = pc.model_path()
    store = InMemoryDocumentStore()
    indexing = Pipeline()
    indexing.add_component("splitter", DocumentSplitter())  # 200 words, no overlap
    # progress_bar off only to keep the log readable; it does not change the work done
    indexing.add_component("embedder", SentenceTransformersDocumentEmbedder(model=model, progress_bar=False))
    indexing.add_component("writer", DocumentWriter(document_store=store))
    indexing.connect("splitter", "embedder")
    indexing.connect("embedder", "writer")

    querying = Pipeline()
    querying.add_component("embedder", SentenceTransformersTextEmbedder(model=model, progress_bar=False))
    querying.add_component("retriever", InMemoryEmbeddingRetriever(document_store=store, top_k=args.chunk_k))
    querying.connect("embedder.embedding", "retriever.query_embedding")

    t0 = time.perf_counter()
    indexing.warm_up()
    querying.warm_up()
    model_load_s = time.perf_counter() - t0

    docs = [
        Document(content=pc.doc_text(d.title, d.text), meta={"corpus_id": d.doc_id})
        for d in evalset.corpus.documents
    ]
    t0 = time.perf_counter()
    indexing.run({"splitter": {"documents": docs}})
    ingest_s = time.perf_counter() - t0
    chunks = store.count_documents()

    def search(text: str) -> list[str]:
        out = querying.run({"embedder": {"text": text}})
        return [d.meta["corpus_id"] for d in out["retriever"]["documents"]]

    latencies, scores = pc.run_queries(evalset, search)
    pc.report("haystack", args, evalset, ingest_s, chunks, latencies, scores, model_load_s)


if __name__ == "__main__":
    main()
