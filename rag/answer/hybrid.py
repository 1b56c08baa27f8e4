"""Hybrid answering: the LLM writes, the verifier checks, and every sentence the passages do not
support is replaced by the extractive answerer's best supported sentence instead of being shown.

Small local models write fluent but often unfaithful sentences; the extractive answerer is
faithful but terse. Hybrid keeps the model's verified sentences and fills the gaps with quotes.
"""

from __future__ import annotations

from collections.abc import Iterator

from rag.answer.citations import ArticleLookup
from rag.answer.llm import LLMAnswerer
from rag.models import Answer, AnswerSentence, Hit


def _render(sentences: list[AnswerSentence]) -> str:
    return " ".join(s.text + " " + "".join(f"[{n}]" for n in s.citations) for s in sentences)


def merge_replacements(llm: Answer, extractive: Answer, wanted: int) -> Answer:
    """Append up to `wanted` verified extractive sentences whose quotes the LLM answer does not already cite."""
    cited = {(c.doc_id, c.start, c.end) for c in llm.citations}
    citations = list(llm.citations)
    sentences = list(llm.sentences)
    by_n = {c.n: c for c in extractive.citations}
    added = 0
    for sent in extractive.sentences:
        if added >= wanted:
            break
        cites = [by_n[n] for n in sent.citations if n in by_n and by_n[n].verified]
        if not sent.supported or not cites or any((c.doc_id, c.start, c.end) in cited for c in cites):
            continue
        numbers = []
        for c in cites:
            n = len(citations) + 1
            citations.append(c.model_copy(update={"n": n}))
            cited.add((c.doc_id, c.start, c.end))
            numbers.append(n)
        sentences.append(AnswerSentence(text=sent.text, citations=numbers, supported=True))
        added += 1
    diagnostics = llm.diagnostics.model_copy(update={"replaced_sentences": added})
    return llm.model_copy(
        update={"sentences": sentences, "citations": citations, "answer": _render(sentences), "mode": "hybrid",
                "diagnostics": diagnostics}
    )


class HybridAnswerer:
    def __init__(self, llm: LLMAnswerer) -> None:
        self.llm = llm
        self.extractive = llm.extractive

    def answer(self, question: str, hits: list[Hit], articles: ArticleLookup) -> Answer:
        *_, final = self.stream(question, hits, articles)
        assert isinstance(final, Answer)
        return final

    def stream(self, question: str, hits: list[Hit], articles: ArticleLookup) -> Iterator[str | Answer]:
        final: Answer | None = None
        for item in self.llm.stream_answer(question, hits, articles):
            if isinstance(item, Answer):
                final = item
            else:
                yield item
        assert final is not None
        if final.refused or final.mode == "fallback":
            yield final  # refusal by evidence, or already the extractive answer with a note saying why
            return
        dropped = final.diagnostics.dropped_sentences
        if not dropped:
            yield final.model_copy(update={"mode": "hybrid"})
            return
        extractive = self.extractive.answer(question, hits, articles)
        merged = merge_replacements(final, extractive, dropped) if not extractive.refused else final
        yield merged.model_copy(update={"mode": "hybrid"})
