"""Optional cross-encoder re-scoring of the fused candidates (sentence-transformers CrossEncoder).

Loaded only from a local folder (RAG_RERANKER_PATH): this product never downloads models.
"""

from __future__ import annotations

import os
from pathlib import Path

from rag.models import Hit


class CrossEncoderReranker:
    def __init__(self, path: str | Path, device: str = "cpu", batch_size: int = 32) -> None:
        if not Path(path).is_dir():
            raise FileNotFoundError(
                f"Reranker folder {path} not found. Set RAG_RERANKER_PATH to a saved sentence-transformers "
                "CrossEncoder folder, or unset it to disable reranking."
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        self._model = CrossEncoder(str(path), device=device)
        self.batch_size = batch_size

    def scores(self, query: str, texts: list[str]) -> list[float]:
        raw = self._model.predict([(query, t) for t in texts], batch_size=self.batch_size, show_progress_bar=False)
        return [float(x) for x in raw]

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        texts = [f"{h.passage.title}\n{h.passage.text}" if h.passage.title else h.passage.text for h in hits]
        scored = [h.model_copy(update={"rerank_score": s, "score": s}) for h, s in zip(hits, self.scores(query, texts))]
        return sorted(scored, key=lambda h: -h.score)
