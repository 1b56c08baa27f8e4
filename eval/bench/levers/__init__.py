"""Pieces of `python -m eval.bench.retrieval_levers`: data, BM25 variants, scoring, the search."""
