"""ExtractiveAnswerer: the offline default. Answers with the passages' own sentences, each cited.

1. Split every retrieved passage into sentences (exact article spans, de-duplicated across
   overlapping chunks) and score them against the question (`rag.answer.evidence`).
2. Refuse when the evidence is too weak (`rag.answer.refusal`), listing the closest passages.
3. Lead with the best sentence; when it is very long, lead with its clause that holds the asked-for
   terms instead (quoted as the exact clause substring, so offsets stay exact).
4. Add up to max_answer_sentences - 1 more sentences that score close to the best and add
   something new (not a near-duplicate, new terms).
5. Verify each sentence against its quote and number citations in order of first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rag.answer.citations import ArticleLookup, CitationNumbering, SentenceSpan, passage_sentences
from rag.answer.evidence import EvidenceScorer, TextEncoder, answer_type
from rag.answer.prompts import NO_ANSWER_PHRASE
from rag.answer.refusal import RefusalPolicy
from rag.cite.verify import CitationVerifier
from rag.models import Answer, AnswerDiagnostics, AnswerSentence, Article, Hit
from rag.settings import Settings

# Follow-up sentences must score within this of the best one to be worth the reader's time.
FOLLOW_MARGIN = 0.10
# ... and share a fair part of the question's terms (otherwise they are merely on topic).
FOLLOW_MIN_OVERLAP = 0.3
# When the lead mostly restates the question (share of new terms below this), look further down.
RESTATEMENT_NOVELTY = 0.5
WIDE_MARGIN = 0.5
# A sentence holding the asked-for kind of answer follows an untyped lead if it shares this much.
TYPED_MIN_OVERLAP = 0.1
# ... and must not restate an already chosen sentence (cosine to it at most this).
MAX_REDUNDANCY = 0.85
# A lead sentence longer than this (words) is trimmed to its best clause window.
LONG_SENTENCE_WORDS = 45
CLAUSE_WINDOW_WORDS = 30
MIN_CLAUSE_WORDS = 6
CLOSEST_SHOWN = 3

_CLAUSE_BREAK = re.compile(r"[,;:]\s+|\s+[—–]\s+|\s+-\s+|\s+(?=(?:and|but|while|whereas|which)\s)")
_TRAILING = " ,;:—–-"
_LEADING_CONJUNCTION = re.compile(r"(?:and|but|while|whereas|which)\s+", re.I)
SUBJECT_BONUS = 0.25


@dataclass(frozen=True)
class Candidate:
    span: SentenceSpan
    score: float
    cosine: float
    overlap: float
    typed: bool  # holds the kind of answer the question asks for (see evidence.answer_type)


def clause_spans(text: str) -> list[tuple[int, int]]:
    """Clause boundaries inside a sentence, as spans into it."""
    spans, pos = [], 0
    for m in _CLAUSE_BREAK.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return [(s, e) for s, e in spans if e > s]


def _display(text: str) -> str:
    """Answer text of a quoted clause: capitalised, ends with a full stop. The quote stays verbatim."""
    text = text.strip().rstrip(_TRAILING)
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?\"”'":
        text += "."
    return text


class ExtractiveAnswerer:
    def __init__(self, embedder: TextEncoder, verifier: CitationVerifier, settings: Settings) -> None:
        self.embedder = embedder
        self.verifier = verifier
        self.settings = settings
        self.scorer = EvidenceScorer(embedder)
        self.policy = RefusalPolicy(settings)

    # ------------------------------------------------------------ scoring

    def rank(self, question: str, hits: list[Hit], articles: ArticleLookup) -> list[Candidate]:
        """All sentences of the hits, best first."""
        spans = [s for s in passage_sentences(hits, articles) if s.text.strip()]
        if not spans:
            return []
        n = max(len(hits) - 1, 1)
        ranks = [1.0 - s.hit_index / n for s in spans]
        scored = self.scorer.score(question, [s.text for s in spans], ranks)
        cands = [Candidate(spans[x.index], x.score, x.cosine, x.overlap, x.typed) for x in scored]
        return sorted(cands, key=lambda c: -c.score)

    # ------------------------------------------------------------ answering

    def answer(self, question: str, hits: list[Hit], articles: ArticleLookup) -> Answer:
        if not question.strip():
            raise ValueError("The question is empty: ask a question in words, e.g. 'Who chaired the meeting?'")
        cands = self.rank(question, hits, articles)
        best = cands[0].score if cands else None
        refuse, reason = self.policy.should_refuse(hits, best)
        if refuse:
            return self.refusal(question, hits, reason, best)
        chosen = self._select(question, cands)
        return self._compose(question, hits, articles, chosen)

    def stream(self, question: str, hits: list[Hit], articles: ArticleLookup) -> Iterator[str | Answer]:
        """Same protocol as LLMAnswerer.stream_answer: the text, then the Answer (always last)."""
        ans = self.answer(question, hits, articles)
        yield ans.answer
        yield ans

    def refusal(self, question: str, hits: list[Hit], reason: str, best: float | None, mode: str = "extractive") -> Answer:
        diagnostics = AnswerDiagnostics(refusal_reason=reason, support=None if best is None else round(best, 4))
        return Answer(
            question=question,
            answer=f"{NO_ANSWER_PHRASE} The closest passages are listed below." if hits else NO_ANSWER_PHRASE,
            refused=True,
            mode=mode,
            closest=hits[:CLOSEST_SHOWN],
            notes=[reason],
            diagnostics=diagnostics,
        )

    def _select(self, question: str, cands: list[Candidate]) -> list[Candidate]:
        """The best sentence, then runners-up that add new information, in score order.

        Two cases widen the net, because a lead sentence can be on topic without being the answer:
        - the question asks for a number/date/name and the lead holds none: the best sentence that
          does (and shares some of the question's terms) follows it;
        - the lead mostly restates the question (under half of its terms are new): follow-ups may
          score up to WIDE_MARGIN below it, e.g. "X and Y signed an agreement" then "... and jointly
          unveiled the innovation center".
        """
        limit = self.settings.max_answer_sentences
        lead = cands[0]
        chosen = [lead]
        if limit == 1:
            return chosen
        analyzer = self.scorer.analyzer
        q_terms = analyzer.terms(question)
        lead_terms = analyzer.terms(lead.span.text)
        novelty = len(lead_terms - q_terms) / max(len(lead_terms), 1)
        margin = FOLLOW_MARGIN if novelty >= RESTATEMENT_NOVELTY else WIDE_MARGIN
        rest = cands[1:]
        if answer_type(question) and not lead.typed:
            typed = [c for c in rest if c.typed and c.overlap >= TYPED_MIN_OVERLAP]
            if typed:
                chosen.append(typed[0])
        pool = [c for c in rest if c.score >= lead.score - margin and c.overlap >= FOLLOW_MIN_OVERLAP and c not in chosen]
        pool = pool[: 4 * limit]
        if not pool or len(chosen) >= limit:
            return chosen
        vecs = self.embedder.encode([c.span.text for c in [*chosen, *pool]])
        chosen_vecs = list(vecs[: len(chosen)])
        seen_terms = set().union(*(analyzer.terms(c.span.text) for c in chosen))
        for i, c in enumerate(pool, start=len(chosen)):
            if len(chosen) >= limit:
                break
            if max(float(np.dot(vecs[i], v)) for v in chosen_vecs) > MAX_REDUNDANCY:
                continue
            terms = analyzer.terms(c.span.text)
            if len(terms - seen_terms) < 2:
                continue
            chosen.append(c)
            chosen_vecs.append(vecs[i])
            seen_terms |= terms
        return chosen

    def _lead_clause(self, question: str, span: SentenceSpan) -> tuple[int, int]:
        """Article span of the best clause window of a long sentence (the whole sentence if short)."""
        words = span.text.split()
        if len(words) <= LONG_SENTENCE_WORDS:
            return span.start, span.end
        clauses = clause_spans(span.text)
        windows: list[tuple[int, int]] = []
        for i in range(len(clauses)):
            for j in range(i, len(clauses)):
                s, e = clauses[i][0], clauses[j][1]
                n_words = len(span.text[s:e].split())
                if n_words > CLAUSE_WINDOW_WORDS:
                    break
                if n_words >= MIN_CLAUSE_WORDS:
                    windows.append((s, e))
        if not windows:
            return span.start, span.end
        texts = [span.text[s:e].rstrip(_TRAILING) for s, e in windows]
        scored = self.scorer.score(question, texts)
        if any(x.typed for x in scored):  # never trim the answer itself away
            scored = [x for x in scored if x.typed]
        # A window that keeps the sentence's opening keeps its grammatical subject ("Gong Zheng, ...").
        best = max(scored, key=lambda x: x.score + SUBJECT_BONUS * (windows[x.index][0] == 0))
        s, _ = windows[best.index]
        e = s + len(texts[best.index])
        lead_word = _LEADING_CONJUNCTION.match(span.text, s, e)
        if lead_word:  # quote "launched ..." rather than "and launched ..."
            s = lead_word.end()
        return span.start + s, span.start + e

    @staticmethod
    def _article(articles: ArticleLookup, doc_id: str) -> Article:
        article = articles(doc_id)
        if article is None:  # passage_sentences only yields sentences of articles it found
            raise LookupError(f"document {doc_id[:12]} disappeared while answering; ask again")
        return article

    def _compose(self, question: str, hits: list[Hit], articles: ArticleLookup, chosen: list[Candidate]) -> Answer:
        pieces: list[tuple[str, Candidate, int, int]] = []
        for i, c in enumerate(chosen):
            start, end = self._lead_clause(question, c.span) if i == 0 else (c.span.start, c.span.end)
            article = self._article(articles, c.span.doc_id)
            quote = article.text[start:end]
            text = _display(quote) if (start, end) != (c.span.start, c.span.end) else quote.strip()
            pieces.append((text, c, start, end))
        verdicts = self.verifier.check_many(
            [(text, self._article(articles, c.span.doc_id).text[s:e]) for text, c, s, e in pieces]
        )
        numbering = CitationNumbering()
        sentences: list[AnswerSentence] = []
        for (text, c, start, end), verdict in zip(pieces, verdicts):
            hit = hits[c.span.hit_index]
            n = numbering.add(hit, self._article(articles, c.span.doc_id), start, end, verdict.ok, verdict.similarity)
            sentences.append(AnswerSentence(text=text, citations=[n], supported=verdict.ok))
        trimmed = (pieces[0][2], pieces[0][3]) != (chosen[0].span.start, chosen[0].span.end)
        return Answer(
            question=question,
            answer=" ".join(f"{s.text} [{s.citations[0]}]" for s in sentences),
            refused=False,
            mode="extractive",
            sentences=sentences,
            citations=numbering.citations,
            diagnostics=AnswerDiagnostics(
                support=round(chosen[0].score, 4),
                sentences=len(chosen),
                lead_clause_trimmed=trimmed,
                unverified_citations=sum(not v.ok for v in verdicts),
            ),
        )
