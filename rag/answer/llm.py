"""LLMAnswerer: composes with any OpenAI-compatible endpoint; every cited sentence is aligned to a quote.

It only composes (the flow has already scored the evidence and decided not to refuse):
1. Passages are numbered [1]..[k] in the prompt (`build_messages`); a small local model gets each
   passage cut to its best-scoring sentences (`small_model_passages`, from the flow's evidence).
2. The reply is split into sentences with their [n] markers (`parse_cited_sentences`); numbers
   outside 1..k are removed.
3. For each sentence and cited passage, the best-supporting sentence (or pair of adjacent
   sentences) of that passage becomes the quote, so offsets are exact; it is verified
   (`CitationVerifier`: key terms present, cosine >= verify_min_similarity) while aligning.
4. Citations that fail are removed; a sentence left with none is dropped (counted in the Draft's
   diagnostics). A reply saying NO_ANSWER_PHRASE is a Draft with no_answer; no surviving sentence
   or a failed endpoint is a Draft with `failed` set: the flow then refuses or falls back to the
   extractive composer, and says why.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import openai

from rag.answer.citations import ArticleLookup, passage_offset, split_sentence_spans
from rag.answer.flow import Draft, DraftSentence, Evidence, Quote
from rag.answer.prompts import (
    ANSWER_PROMPT,
    NO_ANSWER_PHRASE,
    PASSAGE_TEMPLATE,
    SMALL_ANSWER_PROMPT,
    SMALL_PASSAGE_TEMPLATE,
    SMALL_STOP,
    SMALL_SYSTEM_PROMPT,
    SYSTEM_PROMPT,
)
from rag.cite.injection import instruction_regions, overlaps
from rag.cite.terms import strip_markers
from rag.cite.verify import CitationVerifier, Verdict
from rag.models import AnswerDiagnostics, Hit
from rag.settings import Settings

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
# A sentence ends at . ! ? plus any citation markers right after it, before whitespace.
_SENT_END = re.compile(r"([.!?][\"”’')]*)((?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])*)\s+(?=\S)")


# Words of passage text per passage sent to a small model (its best sentence always goes in whole).
SMALL_PASSAGE_MAX_WORDS = 60


@dataclass
class CitedSentence:
    text: str  # without markers
    citations: list[int] = field(default_factory=list)  # valid passage numbers, in order, no repeats


def _fence_safe(text: str) -> str:
    """Passage text cannot close its own data fence."""
    return text.replace("<<<", "« « «").replace(">>>", "» » »")


def build_messages(
    question: str, hits: list[Hit], small_model: bool = False, texts: list[str] | None = None
) -> list[dict[str, str]]:
    """System + user messages; passages numbered from 1 in hit order and fenced as data.

    `texts` replaces the passages' texts (same order), e.g. with their best sentences for a small
    model; small models also get a shorter prompt (SMALL_ANSWER_PROMPT) with a compact passage header.
    """
    texts = texts if texts is not None else [h.passage.text for h in hits]
    if len(texts) != len(hits):
        raise ValueError(f"{len(texts)} passage texts for {len(hits)} hits: give one text per hit")
    template = SMALL_PASSAGE_TEMPLATE if small_model else PASSAGE_TEMPLATE
    passages = "\n\n".join(
        template.format(
            n=i, title=h.passage.title or "untitled", date=h.passage.date or "unknown", text=_fence_safe(text)
        )
        for i, (h, text) in enumerate(zip(hits, texts), start=1)
    )
    prompt = SMALL_ANSWER_PROMPT if small_model else ANSWER_PROMPT
    user = prompt.format(passages=passages, question=question.strip(), no_answer=NO_ANSWER_PHRASE)
    return [
        {"role": "system", "content": SMALL_SYSTEM_PROMPT if small_model else SYSTEM_PROMPT},
        {"role": "user", "content": user},
    ]


def small_model_passages(
    hits: list[Hit], evidence: Evidence, n_passages: int, n_sentences: int
) -> tuple[list[Hit], list[str]]:
    """The top `n_passages` hits that have sentences, each cut to its `n_sentences` best-scoring
    sentences (kept in reading order): a small model on CPU reads ~85 prompt tokens/s and loses
    the question in long context, so it gets the evidence, not the whole chunk."""
    by_hit: dict[int, list] = {}
    words: dict[int, int] = {}
    for span, _ in evidence.ranked():  # best first
        chosen_here = by_hit.setdefault(span.hit_index, [])
        n_words = len(span.text.split())
        if len(chosen_here) >= n_sentences or (chosen_here and words[span.hit_index] + n_words > SMALL_PASSAGE_MAX_WORDS):
            continue
        chosen_here.append(span)
        words[span.hit_index] = words.get(span.hit_index, 0) + n_words
    chosen, texts = [], []
    for i in sorted(by_hit)[:n_passages]:
        spans = sorted(by_hit[i], key=lambda s: s.start)
        chosen.append(hits[i])
        texts.append(" ".join(s.text for s in spans))
    return chosen, texts


def parse_cited_sentences(text: str, n_passages: int) -> tuple[list[CitedSentence], list[int]]:
    """Split a reply into sentences with their citation numbers; numbers not in 1..n_passages are
    removed and returned (in order of appearance) as the second value."""
    pieces, pos = [], 0
    for m in _SENT_END.finditer(text):
        pieces.append(text[pos : m.end(2) if m.group(2) else m.end(1)])
        pos = m.end()
    pieces.append(text[pos:])
    sentences: list[CitedSentence] = []
    invalid: list[int] = []
    for piece in pieces:
        numbers = [int(x) for group in _MARKER.findall(piece) for x in re.split(r"\s*[,;]\s*", group)]
        body = " ".join(strip_markers(piece).split())
        body = re.sub(r"\s+([.!?,;:])", r"\1", body)
        if not body:
            if sentences and numbers:  # markers on a line of their own belong to the sentence before
                sentences[-1].citations += [n for n in numbers if 1 <= n <= n_passages and n not in sentences[-1].citations]
            invalid += [n for n in numbers if not 1 <= n <= n_passages]
            continue
        valid: list[int] = []
        for n in numbers:
            if not 1 <= n <= n_passages:
                invalid.append(n)
            elif n not in valid:
                valid.append(n)
        sentences.append(CitedSentence(body, valid))
    return sentences, invalid


def is_no_answer(text: str) -> bool:
    norm = " ".join(strip_markers(text).casefold().split())
    return NO_ANSWER_PHRASE.casefold().rstrip(".") in norm


class LLMUnavailable(RuntimeError):
    """The endpoint failed after the client's retries (timeout, connection, HTTP error)."""


class LLMAnswerer:
    def __init__(self, settings: Settings, verifier: CitationVerifier, client: openai.OpenAI | None = None) -> None:
        if not settings.llm_base_url and client is None:
            raise ValueError(
                "No LLM endpoint configured: set OPENAI_BASE_URL (or RAG_LLM_BASE_URL) to an OpenAI-compatible "
                "server, or use the extractive answerer (answer_mode=extractive)."
            )
        self.settings = settings
        self.verifier = verifier
        self.client = client or openai.OpenAI(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key or "not-needed",
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )

    def stream(
        self, question: str, hits: list[Hit], articles: ArticleLookup, evidence: Evidence, stream: bool = True
    ) -> Iterator[str | Draft]:
        """Yields text deltas as the model writes, then the Draft (always last).

        The final answer may differ from the streamed text (dropped sentences, renumbered citations,
        or a fallback after a mid-stream failure): clients must replace what they showed.
        """
        started = time.perf_counter()
        if self.settings.local_llm:
            s = self.settings
            hits_sent, texts = small_model_passages(hits, evidence, s.small_model_passages, s.small_model_sentences)
            messages = build_messages(question, hits_sent, small_model=True, texts=texts)
        else:
            hits_sent = hits
            messages = build_messages(question, hits)
        parts: list[str] = []
        try:
            if stream:
                for delta in self._stream(messages):
                    parts.append(delta)
                    yield delta
            else:
                parts.append(self._complete(messages))
        except LLMUnavailable as err:
            yield Draft(mode="llm", failed=f"The language model endpoint failed ({err}).",
                        diagnostics=AnswerDiagnostics(endpoint_failed=True))
            return
        text = "".join(parts).strip()
        llm_ms = (time.perf_counter() - started) * 1000
        # Numbers in the reply refer to the passages sent, which for a small model are a subset.
        draft = self.verify(text, hits_sent, articles, index_of={id(h): hits.index(h) for h in hits_sent})
        draft.timings_ms["llm"] = round(llm_ms, 1)
        yield draft

    # ------------------------------------------------------------ endpoint

    def _request(self, messages: list[dict[str, str]], stream: bool):  # noqa: ANN202 (openai's union type)
        small = self.settings.local_llm
        extra = {"stop": list(SMALL_STOP)} if small else {}  # a small model runs on into a new "Question:"
        return self.client.chat.completions.create(
            model=self.settings.llm_model,
            messages=messages,  # type: ignore[arg-type]
            temperature=self.settings.llm_temperature,
            max_tokens=self.settings.local_llm_max_tokens if small else self.settings.llm_max_tokens,
            stream=stream,
            **extra,
        )

    def _complete(self, messages: list[dict[str, str]]) -> str:
        try:
            reply = self._request(messages, stream=False)
        except openai.OpenAIError as err:
            raise LLMUnavailable(_describe(err)) from err
        if not reply.choices:
            raise LLMUnavailable("the endpoint returned no choices")
        return reply.choices[0].message.content or ""

    def _stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        try:
            for chunk in self._request(messages, stream=True):
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except openai.OpenAIError as err:
            raise LLMUnavailable(_describe(err)) from err

    # ------------------------------------------------------------ verification

    def verify(self, text: str, hits: list[Hit], articles: ArticleLookup,
               index_of: dict[int, int] | None = None) -> Draft:
        """Turn a model reply into a Draft whose every quote is checked (see module docstring).
        `index_of` maps the passages sent (by id) to their rank among all hits (for citation records)."""
        if is_no_answer(text):
            return Draft(mode="llm", no_answer=True)
        parsed, invalid = parse_cited_sentences(text, len(hits))
        # One batched verification: every (sentence, candidate quote) pair of every cited passage.
        pairs: list[tuple[str, str]] = []
        options: list[list[tuple[int, list[tuple[int, int, int]]]]] = []  # per sentence: (n, [(pair idx, start, end)])
        # Small models often forget the [n] marker; such a sentence may still stand on the one
        # passage that verifies best (it must pass the same check), instead of being dropped.
        attribute = self.settings.local_llm
        for sent in parsed:
            per_n = []
            for n in sent.citations or (range(1, len(hits) + 1) if attribute else []):
                spans = []
                for start, end in self._support_spans(hits[n - 1], articles):
                    spans.append((len(pairs), start, end))
                    pairs.append((sent.text, _text(articles, hits[n - 1])[start:end]))
                per_n.append((n, spans))
            options.append(per_n)
        verdicts = self.verifier.check_many(pairs)
        kept: list[DraftSentence] = []
        dropped = 0
        attributed = 0
        for sent, per_n in zip(parsed, options):
            found = [(n, best) for n, spans in per_n if (best := _best_span(spans, verdicts)) is not None]
            if found and not sent.citations:
                found = [max(found, key=lambda f: verdicts[f[1][0]].similarity)]
                attributed += 1
            quotes = []
            for n, (idx, start, end) in found:
                hit = hits[n - 1]
                rank = index_of.get(id(hit), n - 1) if index_of else n - 1
                quotes.append(Quote(rank, hit.passage.doc_id, start, end, True, verdicts[idx].similarity))
            if quotes:
                kept.append(DraftSentence(sent.text, quotes))
            else:
                dropped += 1
        diagnostics = AnswerDiagnostics(llm_sentences=len(parsed), dropped_sentences=dropped,
                                        invalid_citation_numbers=len(invalid), attributed_sentences=attributed)
        if not kept:
            return Draft(mode="llm", failed="The model's answer could not be verified against the passages.",
                         diagnostics=diagnostics)
        notes = []
        if dropped:
            notes.append(f"{dropped} sentence(s) of the model's answer were removed: the passages do not support them.")
        return Draft(mode="llm", sentences=kept, notes=notes, diagnostics=diagnostics)

    def _support_spans(self, hit: Hit, articles: ArticleLookup) -> list[tuple[int, int]]:
        """Article spans of each sentence of the passage and of each pair of neighbouring sentences."""
        article = articles(hit.passage.doc_id)
        base = passage_offset(hit, article) if article is not None else None
        if article is None or base is None:
            return []
        sents = [(base + s, base + e) for s, e in split_sentence_spans(hit.passage.text)]
        # Text addressed to the assistant (a planted "SYSTEM:" line) cannot support a sentence, even
        # though the model may have copied it word for word (rag/cite/injection.py).
        injected = instruction_regions(article.text)
        spans = sents + [(a[0], b[1]) for a, b in zip(sents, sents[1:])]
        return [(s, e) for s, e in spans if not overlaps(s, e, injected)]


def _text(articles: ArticleLookup, hit: Hit) -> str:
    article = articles(hit.passage.doc_id)
    return article.text if article is not None else ""


def _best_span(spans: list[tuple[int, int, int]], verdicts: list[Verdict]) -> tuple[int, int, int] | None:
    """The verified candidate with the highest similarity; a single sentence wins a tie with a pair."""
    ok = [s for s in spans if verdicts[s[0]].ok]
    if not ok:
        return None
    return max(ok, key=lambda s: (round(verdicts[s[0]].similarity, 3), -(s[2] - s[1])))


def _describe(err: openai.OpenAIError) -> str:
    if isinstance(err, openai.APITimeoutError):
        return "timed out"
    if isinstance(err, openai.APIConnectionError):
        return "could not connect"
    if isinstance(err, openai.APIStatusError):
        return f"HTTP {err.status_code}"
    return type(err).__name__
