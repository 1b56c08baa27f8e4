"""The reader (answer mode `read`): a language model reads the best candidate sentences and names the answer in
a few words; the source decides whether that answer stands.

1. The evidence model has ranked the candidate sentences; the reader is shown the best few (a sentence that
   speaks to an assistant, `rag.cite.injection`, is never shown), not whole passages: on a CPU every prompt
   token costs time.
2. Its reply is cleaned to a short answer. It stands only if one of the shown sentences states it (every
   content word, after folding case, punctuation, number words, thousands separators, ordinals and
   months: `rag.answer.answer_match`), it adds something to the question, it is the kind of thing asked
   (`rag.answer.answer_type`), and that sentence scores at least the learned minimum (it is about what was
   asked).
3. The Draft is the short answer with the verbatim sentence it stands on, quoted and cited; a reply that
   does not stand is a Draft with `no_answer` (the path refuses, showing the closest passages).

Calls go through a bounded gate: a full queue or a reply slower than `reader_timeout_s` is a failed Draft,
so the path gives the extractive answer with a note instead of making the client wait.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from rapidfuzz import fuzz

from rag.answer.answer_match import content, states
from rag.answer.answer_type import holds_kind
from rag.answer.citations import ArticleLookup, SentenceSpan
from rag.answer.extractive import clause_windows, eligible_candidates
from rag.answer.flow import Draft, DraftSentence, Evidence, Quote
from rag.answer.parts import question_parts
from rag.answer.prompts import (
    READER_PROMPT,
    READER_PROMPT_HAN,
    READER_SENTENCE_TEMPLATE,
    READER_STOP,
    READER_SYSTEM_PROMPT,
)
from rag.cite.injection import instruction_regions
from rag.models import AnswerDiagnostics, Hit, Progress, RefusalTrace
from rag.settings import Settings
from rag.cite.terms import extract_numbers
from rag.zh.pos import names
from rag.zh.question import asked_multiplier, asked_units, states_in_unit
from rag.zh.script import han_text

_FIGURE = re.compile(r"\d+(?:\.\d+)?")  # the digits of a short answer, matched in the sentence as written

if TYPE_CHECKING:
    import openai

_LEAD = re.compile(r"^\s*(?:the\s+)?(?:short\s+)?answer\s*(?:is)?\s*[:\-]\s*", re.IGNORECASE)
_MARKERS = re.compile(r"\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]")
_EDGE = " \t\"'“”‘’`*.,;:"
SHORT_ANSWER_WORDS = 10  # longer replies are clauses copied from the sentence: the quote alone says it
# A quoted sentence longer than this is cut to the clause window that states the reply. The extractive path
# quotes up to 45 words whole (its sentence is the answer); here the reply leads and the quote backs it, and
# quoting up to 45 words put the median answer at 31-33 words on the typed sets (the goal is 30).
QUOTE_WORDS = 30


class ReaderBusy(RuntimeError):
    """The reader's queue is full, or the wait for a turn ran out."""


class ReaderGate:
    """At most `concurrency` reader calls at once and `queue` more waiting; anyone past that is turned away."""

    def __init__(self, concurrency: int, queue: int, wait_s: float) -> None:
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._waiting = 0
        self._queue = queue
        self._wait_s = wait_s

    def __enter__(self) -> None:
        if self._slots.acquire(blocking=False):
            return
        with self._lock:
            if self._waiting >= self._queue:
                raise ReaderBusy(f"the reader is busy ({self._waiting} questions waiting)")
            self._waiting += 1
        try:
            if not self._slots.acquire(timeout=self._wait_s):
                raise ReaderBusy(f"no turn with the reader within {self._wait_s:.0f} s")
        finally:
            with self._lock:
                self._waiting -= 1

    def __exit__(self, *exc: object) -> None:
        self._slots.release()


def clean_reply(reply: str) -> str:
    """The short answer in a model's reply: first line, no 'Answer:' lead, no [n] markers, no edge punctuation."""
    line = next((ln for ln in reply.strip().splitlines() if ln.strip()), "")
    return _MARKERS.sub("", _LEAD.sub("", line)).strip(_EDGE).strip()


def shown_sentences(evidence: Evidence, limit: int) -> list[tuple[int, SentenceSpan, float]]:
    """The candidates the reader sees, best first: (candidate index, span, probability)."""
    spans = evidence.candidates.spans
    shown = [(i, spans[i], p) for i, p in eligible_candidates(evidence) if not instruction_regions(spans[i].text)]
    return shown[:limit]


def build_reader_messages(question: str, sentences: list[str]) -> list[dict[str, str]]:
    listed = "\n".join(READER_SENTENCE_TEMPLATE.format(n=n, text=" ".join(t.split()))
                       for n, t in enumerate(sentences, start=1))
    prompt = READER_PROMPT_HAN if any(han_text(t) for t in sentences) else READER_PROMPT
    return [{"role": "system", "content": READER_SYSTEM_PROMPT},
            {"role": "user", "content": prompt.format(sentences=listed, question=question)}]


def quote_window(text: str, short: str, question: str) -> tuple[int, int]:
    """The part of a sentence to quote: the whole of a short one; of a long one, the clause window that still
    states the answer and shares most words with the question (the longer on a tie), so answers stay short."""
    if len(text.split()) <= QUOTE_WORDS:
        return 0, len(text)
    asked = content(question)
    good = [w for w in clause_windows(text) if states(short, text[w[0]:w[1]], question)]
    if not good:
        return 0, len(text)
    return max(good, key=lambda w: (len(content(text[w[0]:w[1]]) & asked), w[1] - w[0]))


def standing_sentence(short: str, question: str, shown: list[tuple[int, SentenceSpan, float]], kind: str | None,
                      min_prob: float) -> tuple[SentenceSpan, float] | None:
    """The best-scored shown sentence that states the short answer, if the answer is the kind asked."""
    if not short:
        return None
    if kind == "number" and han_text(question):
        return _standing_figure(short, question, shown, min_prob)
    if kind is not None and not (holds_kind(kind, short, question) or _names_new(kind, short, question)):
        return None
    for _, span, p in shown:
        text = _ENUMERATOR.sub("", span.text) if kind == "number" else span.text  # "2. Send a letter…" states no 2
        if p >= min_prob and states(short, text, question) and counts_what_was_asked(question, span.text):
            return span, p
    return None


_ENUMERATOR = re.compile(r"^\s*\(?\d{1,2}[.)]\s+")
_HOW_MANY = re.compile(r"\bhow\s+many\s+((?:[a-z][\w-]*\s+){0,3}?[a-z][\w-]*s)\b", re.IGNORECASE)
# Counted nouns a sentence says in other words ("how many people" / "1,000 participants").
GENERIC_COUNTED = frozenset("people persons times ones things items cases members units".split())


def counts_what_was_asked(question: str, sentence: str) -> bool:
    """An English "how many X" question: the sentence names X (its stem: "stores", "store"), else its figure counts
    something else ("How many visitors came?" is not answered by "400 exhibitors took part")."""
    m = _HOW_MANY.search(question)
    if not m or han_text(question) or han_text(sentence):  # an untranslated English question over Chinese text
        return True
    head = m.group(1).split()[-1].casefold()
    if head in GENERIC_COUNTED:
        return True
    stem = head[:-1] if head.endswith("s") else head
    stem = (stem[:-2] if stem.endswith("ie") else stem)[:max(3, len(stem) - 2)]  # "cities" -> "cit", "stores" -> "sto"
    words = [w.casefold() for w in re.findall(r"[A-Za-z]+", sentence)]
    if len(stem) < 5:
        return any(w.startswith(stem) for w in words)
    # a misspelt count ("exibitors") still names what the sentence counts ("exhibitors")
    return any(fuzz.ratio(stem, w[:len(stem) + 1]) >= 80 or fuzz.ratio(stem, w[:len(stem)]) >= 80 for w in words)


def _names_new(kind: str, short: str, question: str) -> bool:
    """A Chinese answer naming someone or somewhere the question does not: jieba tags a transliterated name as a
    person whatever it names (约翰内斯堡, Johannesburg: nrt), so for the named kinds any tagged name will do."""
    if kind not in ("person", "place", "org") or not han_text(question):
        return False
    return any(name not in question for name in names(short).all())


def _standing_figure(short: str, question: str, shown: list[tuple[int, SentenceSpan, float]],
                     min_prob: float) -> tuple[SentenceSpan, float] | None:
    """A Chinese question for a figure: the answer gives a number the question does not, and the sentence
    states that number in the unit asked (the reader may leave the unit out: "240万" for "240多万元"; the
    sentence decides: "374家" does not answer "营收多少亿元")."""
    figures = sorted(_FIGURE.findall(short), key=len, reverse=True)
    if not figures or not extract_numbers(short) - extract_numbers(question):
        return None
    units = asked_units(question) or tuple(filter(None, [asked_multiplier(question)]))
    for _, span, p in shown:
        written = any(re.search(rf"(?<![\d.]){re.escape(f)}(?!\d)", span.text) for f in figures)  # "32.8亿元"
        if p < min_prob or not (written or states(short, span.text, question)):
            continue
        if not units or any(states_in_unit(span.text, f, units) for f in figures):
            return span, p
    return None


class ReaderComposer:
    """Composes a `read` answer with any OpenAI-compatible client (the local llama.cpp server or a remote one)."""

    def __init__(self, client: openai.OpenAI, settings: Settings, min_sentence_prob: float) -> None:
        self.client = client
        self.settings = settings
        self.min_sentence_prob = min_sentence_prob
        self.gate = ReaderGate(settings.reader_concurrency, settings.reader_queue, settings.reader_timeout_s)

    def stream(self, question: str, hits: list[Hit], articles: ArticleLookup,
               evidence: Evidence) -> Iterator[Progress | Draft]:
        yield Progress(stage="reading", message="Reading the best sentences with the language model…")
        yield self.compose(question, evidence)

    def compose(self, question: str, evidence: Evidence) -> Draft:
        shown = shown_sentences(evidence, self.settings.reader_sentences)
        diagnostics = AnswerDiagnostics(support=evidence.best, route="reader", reader_sentences=len(shown))
        if not shown:
            return Draft(mode="read", no_answer=True, diagnostics=diagnostics,
                         notes=["No candidate sentence could be shown to the reader."])
        started = time.perf_counter()
        try:
            reply = self.ask(question, [span.text for _, span, _ in shown])
        except ReaderBusy as err:
            return Draft(mode="read", failed=f"The reader was not asked: {err}.", diagnostics=diagnostics)
        except Exception as err:  # noqa: BLE001 - any endpoint failure (timeout, connection, server error) falls back
            diagnostics.endpoint_failed = True
            return Draft(mode="read", failed=f"The reader failed ({type(err).__name__}: {err}).", diagnostics=diagnostics)
        reader_ms = round((time.perf_counter() - started) * 1000, 1)
        short = clean_reply(reply)
        diagnostics.reader_answer = short
        found = standing_sentence(short, question, shown, evidence.candidates.kind, self.min_sentence_prob)
        if found is None:
            return Draft(mode="read", no_answer=True, diagnostics=diagnostics, timings_ms={"reader": reader_ms},
                         notes=[f"The reader's answer ({short or 'none'!r}) is not stated in the passages as asked."])
        span, _ = found
        s, e = quote_window(span.text, short, question)
        quote = span.text[s:e].strip()
        s += len(span.text[s:e]) - len(span.text[s:e].lstrip())
        q = Quote(span.hit_index, span.doc_id, span.start + s, span.start + s + len(quote), verified=True,
                  similarity=None)
        diagnostics.lead_clause_trimmed = (s, s + len(quote)) != (0, len(span.text.strip()))
        # A short answer leads its quote; a reply as long as a clause would only repeat it, so the quote stands alone.
        text = f"{short}: “{quote}”" if len(short.split()) <= SHORT_ANSWER_WORDS else quote
        return Draft(mode="read", sentences=[DraftSentence(text, [q])], diagnostics=diagnostics,
                     timings_ms={"reader": reader_ms})

    def ask(self, question: str, sentences: list[str]) -> str:
        with self.gate:
            reply = self.client.chat.completions.create(
                model=self.settings.llm_model,
                messages=build_reader_messages(question, sentences),  # type: ignore[arg-type]
                temperature=0.0,
                max_tokens=self.settings.reader_max_tokens,
                stop=list(READER_STOP),
                timeout=self.settings.reader_timeout_s,
            )
        return (reply.choices[0].message.content or "") if reply.choices else ""


# ---------------------------------------------------------------- when the reader is asked

CUTOFFS_FILE = Path(__file__).with_name("reader_cutoffs.json")


@dataclass(frozen=True)
class ReaderCutoffs:
    """Where the scorer's own confidence (the refusal model's answerability) sends a `read` question:

    - below `refuse_below`: refused at once;
    - up to `check_above`: the reader is asked, and an answer that does not stand is a refusal;
    - from `check_above` up to `extractive_above`: the reader is asked, and an answer that does not stand
      leaves the extractive answer (the scorer is fairly sure there is an answer, and its best sentence
      is still wrong on some: "who chaired" answered by the meeting's topic sentence);
    - at or above `extractive_above`: the extractive answer stands, no reader call.
    `min_sentence_prob`: the sentence a reader's answer stands on must score at least this. Learned out of
    fold on `train` (`rag eval train-reader`)."""

    refuse_below: float
    extractive_above: float
    min_sentence_prob: float
    check_above: float | None = None  # None: = extractive_above (no zone where the reader only checks)
    trained: dict[str, Any] = field(default_factory=dict)  # how they were learned, and the figures they gave

    @property
    def check_from(self) -> float:
        return self.extractive_above if self.check_above is None else self.check_above

    @classmethod
    def load(cls, path: Path | None = None) -> ReaderCutoffs:
        path = path or CUTOFFS_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            check = raw.get("check_above")
            return cls(float(raw["refuse_below"]), float(raw["extractive_above"]), float(raw["min_sentence_prob"]),
                       None if check is None else float(check), dict(raw.get("trained", {})))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ValueError(f"The reader cut-offs at {path} cannot be read ({err}); restore the shipped file "
                             "(git checkout rag/answer/reader_cutoffs.json) or run `rag eval train-reader`.") from err

    def save(self, path: Path | None = None) -> None:
        path = path or CUTOFFS_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)


Route = Literal["refuse", "extractive", "reader", "check"]


def zone(best: float, cutoffs: ReaderCutoffs, multi_part: bool) -> Route:
    """Where an answerability falls among the cut-offs (`route` in the product, train-reader's simulation)."""
    if best < cutoffs.refuse_below:
        return "refuse"
    # A question in two parts is composed part by part by the extractive composer (the reader names one thing).
    if best >= cutoffs.extractive_above or multi_part:
        return "extractive"
    return "check" if best >= cutoffs.check_from else "reader"


def route(hits: list[Hit], evidence: Evidence, cutoffs: ReaderCutoffs, question: str) -> tuple[RefusalTrace, Route]:
    """Step 5 of a `read` question: refuse at once, let the extractive answer stand, or ask the reader."""
    best = evidence.best
    if not hits or best is None:
        reason = ("No passage was retrieved for this question." if not hits
                  else "The retrieved passages hold no sentence that could answer the question.")
        return RefusalTrace(refused=True, reason=reason, threshold=cutoffs.refuse_below), "refuse"
    margin = best - cutoffs.refuse_below
    way = zone(best, cutoffs, len(question_parts(question)) > 1)
    if way == "refuse":
        return RefusalTrace(refused=True, best_score=best, threshold=cutoffs.refuse_below, margin=margin,
                            reason="No sentence in the retrieved passages answers the question well enough "
                                   f"(evidence score {best:.2f} < {cutoffs.refuse_below:.2f})."), "refuse"
    return RefusalTrace(refused=False, best_score=best, threshold=cutoffs.refuse_below, margin=margin), way
