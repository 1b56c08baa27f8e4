"""Hybrid composing: the LLM writes, its sentences are aligned and checked, and every sentence the
passages do not support is replaced by the extractive composer's next best quote instead of being shown.

Small local models write fluent but often unfaithful sentences; the extractive composer is
faithful but terse. Hybrid keeps the model's verified sentences and fills the gaps with quotes.
"""

from __future__ import annotations

from collections.abc import Iterator

from rag.answer.citations import ArticleLookup
from rag.answer.extractive import ExtractiveComposer
from rag.answer.flow import Draft, Evidence
from rag.answer.llm import LLMAnswerer
from rag.models import Hit


def merge_replacements(llm: Draft, extractive: Draft, wanted: int) -> Draft:
    """Append up to `wanted` extractive sentences whose quotes the LLM draft does not already cite."""
    cited = {(q.doc_id, q.start, q.end) for s in llm.sentences for q in s.quotes}
    added = [s for s in extractive.sentences if not any((q.doc_id, q.start, q.end) in cited for q in s.quotes)][:wanted]
    diagnostics = llm.diagnostics.model_copy(update={"replaced_sentences": len(added)})
    return Draft(mode="hybrid", sentences=[*llm.sentences, *added], notes=llm.notes, diagnostics=diagnostics,
                 timings_ms=llm.timings_ms)


class HybridAnswerer:
    def __init__(self, llm: LLMAnswerer, extractive: ExtractiveComposer) -> None:
        self.llm = llm
        self.extractive = extractive

    def stream(self, question: str, hits: list[Hit], articles: ArticleLookup, evidence: Evidence) -> Iterator[str | Draft]:
        final: Draft | None = None
        for item in self.llm.stream(question, hits, articles, evidence):
            if isinstance(item, Draft):
                final = item
            else:
                yield item
        assert final is not None
        if final.no_answer or final.failed:
            yield final  # the flow refuses, or falls back to the extractive composer and says why
            return
        dropped = final.diagnostics.dropped_sentences
        if not dropped:
            final.mode = "hybrid"
            yield final
            return
        yield merge_replacements(final, self.extractive.compose(question, hits, articles, evidence), dropped)
