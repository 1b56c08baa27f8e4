"""One question, top to bottom. Every front end (CLI, HTTP API, chat page, MCP, `rag eval`) asks here:

    1. check     the question is words, within the length limit, in an answer mode this install can run
    2. rewrite   a follow-up becomes a standalone question (only with chat history and an LLM endpoint)
    3. retrieve  hybrid search over the collection's newest generation (`rag.retrieve.hybrid`)
    4. score     every sentence of the retrieved passages gets the learned evidence model's probability
    5. decide    refuse or not: the refusal model's answerability against its one threshold (decided here, once)
    6. compose   a composer turns the evidence into a Draft of sentences with quotes; composers never refuse
                 on evidence (an LLM may still say the passages hold no answer, which is a refusal too)
    7. verify    every quote not already checked by its composer is checked against its source span
    8. number    citations numbered by first use; `article.text[start:end] == quote` for each

The steps themselves live in `rag.answer` (scoring, composers, verification); this module only runs
them in order and owns the decisions between them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Literal

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
from rag.answer.grounding import unstated_names
from rag.answer.grounding_en import two_sided, unstated_specifics
from rag.answer.reader import ReaderComposer, ReaderCutoffs, route
from rag.answer.translate import QuestionTranslator, wants_translation
from rag.answer.written import written
from rag.cite.verify import CitationVerifier
from rag.models import Answer, AnswerMode, AskRequest, ChatTurn, Hit, Progress, RefusalTrace
from rag.retrieve.hybrid import HybridRetriever
from rag.service.errors import InvalidRequest
from rag.service.questions import check_question, final_answer
from rag.settings import Settings

if TYPE_CHECKING:  # openai costs ~0.9 s of a one-shot `rag ask` that never calls a model
    import openai

    from rag.answer.hybrid import HybridAnswerer
    from rag.answer.llm import LLMAnswerer

MODES = tuple(m.value for m in AnswerMode)
Way = AnswerMode | Literal["extractive", "check", "refuse"]  # the composer a decision leaves


class QuestionPath:
    """The answerers of one collection (evidence model, verifier, composers) and the path a question takes.

    Long-lived: built once per process (the Assistant holds it); nothing here touches the store."""

    def __init__(self, settings: Settings, encoder: TextEncoder, model: EvidenceModel | None = None,
                 llm_client: openai.OpenAI | None = None) -> None:
        self.settings = settings
        self.model = model or load_model(settings.evidence_model_path)
        self.verifier = CitationVerifier(encoder, settings.verify_min_similarity)
        self.scorer = EvidenceScorer(FeatureExtractor(encoder), self.model)
        self.extractive = ExtractiveComposer(self.scorer, settings.max_answer_sentences)
        self.cutoffs = ReaderCutoffs.load(settings.reader_cutoffs_path)
        self.llm: LLMAnswerer | None = None
        self.hybrid: HybridAnswerer | None = None
        self.reader: ReaderComposer | None = None
        self.translator: QuestionTranslator | None = None
        if settings.llm_base_url or llm_client:
            from rag.answer.hybrid import HybridAnswerer  # noqa: PLC0415 - imports openai: only with an endpoint
            from rag.answer.llm import LLMAnswerer  # noqa: PLC0415

            self.llm = LLMAnswerer(settings, self.verifier, client=llm_client)
            self.hybrid = HybridAnswerer(self.llm, self.extractive)
            self.reader = ReaderComposer(self.llm.client, settings, self.cutoffs.min_sentence_prob)
            self.translator = QuestionTranslator(self.llm.client, settings.llm_model, settings.reader_timeout_s)

    # ------------------------------------------------------------ 1. check

    def resolve(self, mode: AnswerMode | str | None) -> AnswerMode:
        """The mode that will answer: `auto` picks `auto_mode` (read, by default) only when an endpoint (the local
        reader or any OpenAI-compatible one) is configured, so a fresh offline install always answers. A mode this
        install cannot run is the caller's error."""
        raw = mode.value if isinstance(mode, AnswerMode) else (mode or self.settings.answer_mode)
        if raw not in MODES:
            raise InvalidRequest(f"Unknown answer mode {raw!r}: use one of {', '.join(MODES)}.")
        if raw == "auto":
            raw = self.settings.auto_mode if self.llm else "extractive"
        if raw in ("read", "llm", "hybrid") and self.llm is None:
            raise InvalidRequest(
                f"Answer mode {raw!r} needs an LLM endpoint: set OPENAI_BASE_URL (any OpenAI-compatible server), "
                "or start the bundled reader with `rag serve --local-llm`, or use mode extractive.",
                code="llm_not_configured")
        return AnswerMode(raw)

    def check(self, request: AskRequest) -> AskRequest:
        """Step 1 for a whole request, run before any answer is streamed (so errors are the caller's 4xx)."""
        question = check_question(request.question, self.settings.max_question_chars)
        self.resolve(request.mode)
        return request if question == request.question else request.model_copy(update={"question": question})

    # ------------------------------------------------------------ the path

    def run(self, request: AskRequest, retriever: HybridRetriever, articles: ArticleLookup,
            sentences: SentenceVectors | None = None) -> Iterator[str | Progress | Answer]:
        """Steps 1-8 for one request: answer text as it is produced, then the final verified Answer (always last).
        `sentences`: the snapshot's stored sentence vectors, so candidates are looked up, not encoded."""
        t0 = time.perf_counter()
        req = self.check(request)  # 1. check
        rewritten = self.rewrite(req.question, req.history)  # 2. rewrite
        query = self.search_query(rewritten, retriever.snapshot.manifest.model)
        result = retriever.search(query, req.k, req.filters)  # 3. retrieve
        if query != rewritten:
            result.notes.insert(0, f"Searched the Chinese documents with a translation of the question: {query}")
        query = result.query or query  # a misspelt word read as the documents' word (rag/retrieve/respell.py)
        if self.settings.read_typed:  # "whats jd's count" is scored as "what is JD's count" (rag/answer/written.py)
            query = written(query)
        t_retrieve = (time.perf_counter() - t0) * 1000
        final: Answer | None = None
        looked_up = result.sentence_lookup(sentences) if sentences is not None else None
        # An English question over Chinese documents is answered as its translation: the scorer, the reader and
        # the name check then compare Chinese with Chinese (the reply keeps the user's question; a note says so).
        for item in self.stream(query, result.hits, articles, req.mode, req.explain,  # 4.-8.
                                sentence_vectors=looked_up, query_vector=result.query_vector):
            if isinstance(item, Answer):
                final = item
            else:
                yield item
        assert final is not None, "the path always ends with an Answer"
        changed = rewritten if rewritten != req.question else None
        if final.explain is not None:
            final.explain.rewritten_question = changed
        yield final.model_copy(update={
            "question": req.question,
            "rewritten_question": changed,
            "filters": result.filters,
            "notes": [*result.notes, *final.notes],
            "timings_ms": {**final.timings_ms, **result.timings_ms, "retrieve": t_retrieve,
                           "total": (time.perf_counter() - t0) * 1000},
        })

    def search_query(self, question: str, collection_model: str) -> str:
        """Step 2b: what retrieval searches with: the question, or its Chinese translation when an English
        question meets a Chinese collection and an LLM endpoint is configured (rag/answer/translate.py)."""
        if self.translator is None or not wants_translation(question, collection_model):
            return question
        return self.translator.translate(question) or question

    def rewrite(self, question: str, history: list[ChatTurn]) -> str:
        """Step 2: a follow-up becomes a standalone question (unchanged without history or an endpoint)."""
        if not history:
            return question
        from rag.answer.rewrite import rewrite_question  # noqa: PLC0415 - only conversations need it

        turns = [{"role": t.role, "content": t.content} for t in history]
        return rewrite_question(question, turns, self.llm_client(), model=self.settings.llm_model)

    def stream(self, question: str, hits: list[Hit], articles: ArticleLookup, mode: AnswerMode | str | None = None,
               explain: bool = False, stream_llm: bool = True, sentence_vectors: SentenceVectors | None = None,
               query_vector: np.ndarray | None = None) -> Iterator[str | Progress | Answer]:
        """Steps 4-8 over passages already retrieved (the eval harness and tests enter here with their hits).
        `stream_llm=False` asks an LLM endpoint for the whole reply at once (same result, no deltas)."""
        if not question.strip():
            raise InvalidRequest("The question is empty: ask a question in words, e.g. 'Who chaired the meeting?'")
        resolved = self.resolve(mode)
        evidence = self.scorer.score(question, hits, articles, sentence_vectors, query_vector)  # 4. score
        decision, way = self.decide(resolved, question, hits, evidence)  # 5. decide
        trace = explain_trace(hits, evidence, decision, self.model) if explain else None
        if decision.refused:
            ans = refusal_answer(question, hits, decision.reason, resolved.value, evidence.best)
            if resolved is AnswerMode.READ:
                ans.diagnostics.route = "refuse"
            yield ans.model_copy(update={"explain": trace})
            return
        draft: Draft | None = None
        streamed = False
        for item in self.compose(way, question, hits, articles, evidence, stream_llm):  # 6. compose
            if isinstance(item, Draft):
                draft = item
            elif isinstance(item, Progress):  # shown while it runs, never part of the answer text
                yield item
            elif item:
                streamed = True
                yield item
        assert draft is not None, "composers always end with a Draft"
        final = self.finish(question, hits, articles, evidence, draft)  # 7. verify, 8. number
        if resolved is AnswerMode.READ and way == "extractive":
            final.diagnostics.route = "extractive"
        if trace is not None:
            trace.composer = final.mode
            trace.lead_rule = final.diagnostics.lead_rule
        if not streamed:
            yield final.answer
        yield final.model_copy(update={"explain": trace})

    def answer(self, question: str, hits: list[Hit], articles: ArticleLookup, mode: AnswerMode | str | None = None,
               explain: bool = False, stream_llm: bool = True, sentence_vectors: SentenceVectors | None = None,
               query_vector: np.ndarray | None = None) -> Answer:
        """`stream`'s final Answer."""
        return final_answer(self.stream(question, hits, articles, mode, explain, stream_llm, sentence_vectors,
                                        query_vector))

    # ------------------------------------------------------------ 6. compose, 7.-8. verify and number

    def decide(self, mode: AnswerMode, question: str, hits: list[Hit], evidence: Evidence) -> tuple[RefusalTrace, Way]:
        """Step 5, the one refusal decision, and the composer it leaves: in `read` mode the scorer's confidence
        also says whether the extractive answer stands or the reader is asked (`rag.answer.reader.route`)."""
        if mode is AnswerMode.READ:
            decision, way = route(hits, evidence, self.cutoffs, question)
            return decision, mode if way == "reader" else way
        return decide_refusal(hits, evidence, self.model.threshold), mode

    def compose(self, way: Way, question: str, hits: list[Hit], articles: ArticleLookup, evidence: Evidence,
                stream_llm: bool = True) -> Iterator[str | Draft]:
        """The chosen composer's text deltas, then its Draft. Composers only compose."""
        if way in (AnswerMode.EXTRACTIVE, "extractive"):
            return self.extractive.stream(question, hits, articles, evidence)
        assert self.llm is not None and self.hybrid is not None and self.reader is not None, \
            "resolve() admits read/llm/hybrid only with an endpoint"
        if way is AnswerMode.READ:
            return self.reader.stream(question, hits, articles, evidence)
        if way == "check":
            return self.checked(question, hits, articles, evidence)
        if way is AnswerMode.LLM:
            return self.llm.stream(question, hits, articles, evidence, stream=stream_llm)
        return self.hybrid.stream(question, hits, articles, evidence)

    def checked(self, question: str, hits: list[Hit], articles: ArticleLookup,
                evidence: Evidence) -> Iterator[str | Progress | Draft]:
        """Where the scorer is fairly sure: the reader's answer when it stands, else the extractive one."""
        assert self.reader is not None
        for item in self.reader.stream(question, hits, articles, evidence):
            if isinstance(item, Draft) and item.no_answer:
                draft = self.extractive.compose(question, hits, articles, evidence)
                draft.diagnostics = draft.diagnostics.model_copy(update={
                    "route": "check", "reader_answer": item.diagnostics.reader_answer,
                    "reader_sentences": item.diagnostics.reader_sentences})
                draft.timings_ms.update(item.timings_ms)
                yield draft
            else:
                if isinstance(item, Draft):
                    item.diagnostics.route = "check"
                yield item

    def finish(self, question: str, hits: list[Hit], articles: ArticleLookup, evidence: Evidence, draft: Draft) -> Answer:
        """A composer's Draft verified and numbered. The refusal was decided before composing; here a model
        whose answer does not stand is a refusal, and a composer that failed gives way to the extractive path."""
        if draft.no_answer:
            reason = draft.notes[0] if draft.notes else "The model found no answer in the passages."
            ans = refusal_answer(question, hits, reason, draft.mode, evidence.best)
            return ans.model_copy(update={"diagnostics": ans.diagnostics.model_copy(
                update=draft.diagnostics.model_dump(exclude_defaults=True)), "timings_ms": dict(draft.timings_ms)})
        if draft.failed:
            return self.fallback(question, hits, articles, evidence, draft)
        return self.grounded(question, hits, articles, evidence,
                             verify_and_number(draft, hits, articles, self.verifier, question))

    def grounded(self, question: str, hits: list[Hit], articles: ArticleLookup, evidence: Evidence,
                 ans: Answer) -> Answer:
        """Step 8b: an answer whose quoted articles never mention a name (or, in English, a year or figure) the question
        gives is about something else: a refusal that says which (rag/answer/grounding.py, grounding_en.py)."""
        translated = self.translator is not None and self.translator.made(question)
        missing = unstated_names(question, ans, articles, [h.passage.text for h in hits] if translated else None)
        joiner = "、"
        if not missing and self.settings.check_question_names:
            passages = [(h.passage.text, h.passage.date) for h in hits]
            missing, joiner = unstated_specifics(question, ans, articles, passages, two_sided(question)), ", "
        if not missing:
            return ans
        reason = f"The passages that hold an answer never mention {joiner.join(missing)}."
        refusal = refusal_answer(question, hits, reason, ans.mode, evidence.best)
        return refusal.model_copy(update={"diagnostics": refusal.diagnostics.model_copy(
            update=ans.diagnostics.model_dump(exclude_defaults=True)), "timings_ms": dict(ans.timings_ms)})

    def fallback(self, question: str, hits: list[Hit], articles: ArticleLookup, evidence: Evidence, draft: Draft) -> Answer:
        """What `--mode extractive` answers (its own refusal cut-off included), with the failure said in a note."""
        counts = draft.diagnostics.model_dump(exclude_defaults=True)
        decision = decide_refusal(hits, evidence, self.model.threshold)
        if decision.refused:
            ans = refusal_answer(question, hits, decision.reason, "fallback", evidence.best)
            ans.notes.insert(0, draft.failed or "")
            return ans.model_copy(update={"diagnostics": ans.diagnostics.model_copy(update=counts)})
        fallback = self.extractive.compose(question, hits, articles, evidence)
        fallback.mode = "fallback"
        fallback.notes.insert(0, f"{draft.failed} This answer was extracted from the passages instead.")
        fallback.diagnostics = fallback.diagnostics.model_copy(update=counts)
        return self.grounded(question, hits, articles, evidence,
                             verify_and_number(fallback, hits, articles, self.verifier, question))

    def answer_from_reply(self, question: str, reply: str, hits: list[Hit], articles: ArticleLookup) -> Answer:
        """Steps 4-8 for an LLM reply already in hand (tests, offline replays): score, align, verify, number."""
        if self.llm is None:
            raise InvalidRequest("answer_from_reply needs an LLM endpoint configured (settings.llm_base_url)")
        evidence = self.scorer.score(question, hits, articles)
        return self.finish(question, hits, articles, evidence, self.llm.verify(reply, hits, articles))

    def llm_client(self) -> openai.OpenAI | None:
        return self.llm.client if self.llm else None
