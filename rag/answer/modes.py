"""Which answerer answers: extractive (offline default), llm (any OpenAI-compatible endpoint), or
hybrid (LLM sentences verified, unsupported ones replaced by extractive ones).

`auto` picks the LLM path only when an endpoint is configured, so a fresh offline install always
answers; see the README's mode table for why hybrid is the default with a local model.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from rag.answer.citations import ArticleLookup
from rag.answer.extractive import ExtractiveAnswerer
from rag.cite.verify import CitationVerifier
from rag.embed.protocols import QueryEncoder
from rag.models import Answer, Hit
from rag.settings import Settings

if TYPE_CHECKING:  # openai costs ~0.9 s of a one-shot `rag ask` that never calls a model
    import openai

    from rag.answer.hybrid import HybridAnswerer
    from rag.answer.llm import LLMAnswerer

MODES = ("auto", "extractive", "llm", "hybrid")


class StreamingAnswerer(Protocol):
    def stream(self, question: str, hits: list[Hit], articles: ArticleLookup) -> Iterator[str | Answer]: ...


class Answerers:
    def __init__(self, settings: Settings, embedder: QueryEncoder) -> None:
        self.settings = settings
        self.verifier = CitationVerifier(embedder, settings.verify_min_similarity)
        self.extractive = ExtractiveAnswerer(embedder, self.verifier, settings)
        self.llm: LLMAnswerer | None = None
        self.hybrid: HybridAnswerer | None = None
        if settings.llm_base_url:
            from rag.answer.hybrid import HybridAnswerer  # noqa: PLC0415 - imports openai: only with an endpoint
            from rag.answer.llm import LLMAnswerer  # noqa: PLC0415

            self.llm = LLMAnswerer(settings, self.verifier)
            self.hybrid = HybridAnswerer(self.llm)

    def pick(self, mode: str) -> StreamingAnswerer:
        if mode not in MODES:
            raise ValueError(f"Unknown answer mode {mode!r}: use one of {', '.join(MODES)}.")
        if mode == "auto":
            mode = self.settings.auto_mode if self.llm else "extractive"
        if mode == "extractive":
            return self.extractive
        if self.llm is None or self.hybrid is None:
            raise ValueError(
                f"Answer mode {mode!r} needs an LLM endpoint: set OPENAI_BASE_URL (any OpenAI-compatible server), "
                "or start the bundled model with `rag serve --local-llm`, or use --mode extractive."
            )
        return self.llm if mode == "llm" else self.hybrid

    def llm_client(self) -> openai.OpenAI | None:
        return self.llm.client if self.llm else None


def build_answerers(settings: Settings, embedder: QueryEncoder) -> Answerers:
    return Answerers(settings, embedder)
