"""The question flow after retrieval, and who composes: extractive (offline default), llm (any
OpenAI-compatible endpoint) or hybrid (LLM sentences verified, unsupported ones replaced by quotes).

`QuestionFlow.stream` runs the steps of `rag.answer.flow` in order: score evidence -> refuse or not
-> compose -> verify -> number. `auto` picks the LLM path only when an endpoint is configured, so a
fresh offline install always answers; see the README's mode table for why.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag.answer.citations import ArticleLookup
from rag.answer.evidence_model import EvidenceModel, load_model
from rag.answer.extractive import ExtractiveComposer
from rag.answer.features import FeatureExtractor, SentenceVectors, TextEncoder
from rag.answer.flow import (
    Draft,
    Evidence,
    EvidenceScorer,
    decide_refusal,
    explain_trace,
    refusal_answer,
    verify_and_number,
)
from rag.cite.verify import CitationVerifier
from rag.models import Answer, AnswerMode, Hit
from rag.settings import Settings

if TYPE_CHECKING:  # openai costs ~0.9 s of a one-shot `rag ask` that never calls a model
    import openai

    from rag.answer.hybrid import HybridAnswerer
    from rag.answer.llm import LLMAnswerer

MODES = tuple(m.value for m in AnswerMode)


class Composer(Protocol):
    def stream(self, question: str, hits: list[Hit], articles: ArticleLookup, evidence: Evidence) -> Iterator[str | Draft]: ...


class QuestionFlow:
    def __init__(self, settings: Settings, encoder: TextEncoder, model: EvidenceModel | None = None,
                 llm_client: openai.OpenAI | None = None) -> None:
        self.settings = settings
        self.model = model or load_model(settings.evidence_model_path)
        self.verifier = CitationVerifier(encoder, settings.verify_min_similarity)
        self.scorer = EvidenceScorer(FeatureExtractor(encoder), self.model)
        self.extractive = ExtractiveComposer(self.scorer, settings.max_answer_sentences)
        self.llm: LLMAnswerer | None = None
        self.hybrid: HybridAnswerer | None = None
        if settings.llm_base_url or llm_client:
            from rag.answer.hybrid import HybridAnswerer  # noqa: PLC0415 - imports openai: only with an endpoint
            from rag.answer.llm import LLMAnswerer  # noqa: PLC0415

            self.llm = LLMAnswerer(settings, self.verifier, client=llm_client)
            self.hybrid = HybridAnswerer(self.llm, self.extractive)

    def resolve(self, mode: AnswerMode | str | None) -> AnswerMode:
        raw = mode.value if isinstance(mode, AnswerMode) else (mode or self.settings.answer_mode)
        if raw not in MODES:
            raise ValueError(f"Unknown answer mode {raw!r}: use one of {', '.join(MODES)}.")
        if raw == "auto":
            raw = self.settings.auto_mode if self.llm else "extractive"
        return AnswerMode(raw)

    def composer(self, mode: AnswerMode) -> Composer:
        if mode is AnswerMode.EXTRACTIVE:
            return self.extractive
        if self.llm is None or self.hybrid is None:
            raise ValueError(
                f"Answer mode {mode.value!r} needs an LLM endpoint: set OPENAI_BASE_URL (any OpenAI-compatible server), "
                "or start the bundled model with `rag serve --local-llm`, or use --mode extractive."
            )
        return self.llm if mode is AnswerMode.LLM else self.hybrid

    def llm_client(self) -> openai.OpenAI | None:
        return self.llm.client if self.llm else None

    # ------------------------------------------------------------ the flow

    def answer(self, question: str, hits: list[Hit], articles: ArticleLookup,
               mode: AnswerMode | str | None = None, explain: bool = False, stream_llm: bool = True,
               sentence_vectors: SentenceVectors | None = None, query_vector: np.ndarray | None = None) -> Answer:
        *_, final = self.stream(question, hits, articles, mode, explain, stream_llm, sentence_vectors, query_vector)
        assert isinstance(final, Answer)
        return final

    def stream(self, question: str, hits: list[Hit], articles: ArticleLookup, mode: AnswerMode | str | None = None,
               explain: bool = False, stream_llm: bool = True,
               sentence_vectors: SentenceVectors | None = None,
               query_vector: np.ndarray | None = None) -> Iterator[str | Answer]:
        """Text as it is produced, then the final verified Answer (always last). `stream_llm=False` asks an
        LLM endpoint for the whole reply at once (same result, no deltas). `sentence_vectors`: the snapshot's
        stored sentence vectors (`Snapshot.sentences`), so candidates are looked up instead of encoded;
        `query_vector`: the question's vector from retrieval. With both, the extractive path encodes nothing."""
        if not question.strip():
            raise ValueError("The question is empty: ask a question in words, e.g. 'Who chaired the meeting?'")
        resolved = self.resolve(mode)
        composer = self.composer(resolved)
        evidence = self.scorer.score(question, hits, articles, sentence_vectors, query_vector)  # 1. score evidence
        refusal = decide_refusal(hits, evidence, self.model.threshold)  # 2. refuse or not
        trace = explain_trace(hits, evidence, refusal, self.model) if explain else None
        if refusal.refused:
            ans = refusal_answer(question, hits, refusal.reason, resolved.value, evidence.best)
            yield ans.model_copy(update={"explain": trace})
            return
        draft: Draft | None = None
        streamed = False
        items = (self.llm.stream(question, hits, articles, evidence, stream=False) if composer is self.llm and not stream_llm
                 else composer.stream(question, hits, articles, evidence))
        for item in items:  # 3. compose
            if isinstance(item, Draft):
                draft = item
            elif item:
                streamed = True
                yield item
        assert draft is not None, "composers always end with a Draft"
        final = self.finish(question, hits, articles, evidence, draft)  # 4. verify, 5. number
        if trace is not None:
            trace.composer = final.mode
            trace.lead_rule = final.diagnostics.lead_rule
        if not streamed:
            yield final.answer
        yield final.model_copy(update={"explain": trace})

    def finish(self, question: str, hits: list[Hit], articles: ArticleLookup, evidence: Evidence, draft: Draft) -> Answer:
        """Verify and number a composer's Draft; a composer that found no answer or failed is handled here."""
        if draft.no_answer:
            ans = refusal_answer(question, hits, "The model found no answer in the passages.", draft.mode, evidence.best)
            return ans.model_copy(update={"diagnostics": ans.diagnostics.model_copy(
                update=draft.diagnostics.model_dump(exclude_defaults=True))})
        if draft.failed:
            refusal = decide_refusal(hits, evidence, self.model.threshold)
            if refusal.refused:  # only reachable from answer_from_reply: the stream refused before composing
                ans = refusal_answer(question, hits, refusal.reason, "fallback", evidence.best)
                return ans.model_copy(update={"diagnostics": ans.diagnostics.model_copy(
                    update=draft.diagnostics.model_dump(exclude_defaults=True))})
            fallback = self.extractive.compose(question, hits, articles, evidence)
            fallback.mode = "fallback"
            fallback.notes.insert(0, f"{draft.failed} This answer was extracted from the passages instead.")
            counts = draft.diagnostics.model_dump(exclude_defaults=True)
            fallback.diagnostics = fallback.diagnostics.model_copy(update=counts)
            draft = fallback
        return verify_and_number(draft, hits, articles, self.verifier, question)

    def answer_from_reply(self, question: str, reply: str, hits: list[Hit], articles: ArticleLookup) -> Answer:
        """The flow's end for an LLM reply already in hand (tests, offline replays): align, verify, number."""
        if self.llm is None:
            raise ValueError("answer_from_reply needs an LLM endpoint configured (settings.llm_base_url)")
        evidence = self.scorer.score(question, hits, articles)
        return self.finish(question, hits, articles, evidence, self.llm.verify(reply, hits, articles))
