"""LlamaIndex with its defaults on SciFact: SentenceSplitter() + VectorStoreIndex + local MiniLM.

Run in .venv-llamaindex (make peers):
    HF_HUB_OFFLINE=1 .venv-llamaindex/bin/python eval/bench/peers/llamaindex_scifact.py [--limit N]
Prints one JSON line: system, ingest_s, chunks, query_p50_ms, query_p95_ms, ndcg10, n_queries.
ingest_s covers splitting, embedding and indexing; loading the model is timed apart.
"""

from __future__ import annotations

import time

import peer_common as pc


def main() -> None:
    args = pc.parse_args("LlamaIndex")
    evalset = pc.load(args)
    assert evalset.corpus is not None  # load_beir always returns one

    from llama_index.core import Document, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    t0 = time.perf_counter()
    embed = HuggingFaceEmbedding(model_name=pc.model_path(), device="cpu")
    model_load_s = time.perf_counter() - t0

    # The corpus id travels as metadata but is kept out of the embedded and LLM text, which
    # LlamaIndex would otherwise prefix to every chunk as "corpus_id: 4983".
    docs = [
        Document(
            text=pc.doc_text(d.title, d.text),
            metadata={"corpus_id": d.doc_id},
            excluded_embed_metadata_keys=["corpus_id"],
            excluded_llm_metadata_keys=["corpus_id"],
        )
        for d in evalset.corpus.documents
    ]
    t0 = time.perf_counter()
    # default transformations = [SentenceSplitter()] (1,024-token chunks, 200 overlap)
    index = VectorStoreIndex.from_documents(docs, embed_model=embed)
    ingest_s = time.perf_counter() - t0
    chunks = len(index.docstore.docs)

    retriever = index.as_retriever(similarity_top_k=args.chunk_k)

    def search(text: str) -> list[str]:
        return [n.node.metadata["corpus_id"] for n in retriever.retrieve(text)]

    latencies, scores = pc.run_queries(evalset, search)
    pc.report("llamaindex", args, evalset, ingest_s, chunks, latencies, scores, model_load_s)


if __name__ == "__main__":
    main()
