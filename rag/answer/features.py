"""Sentence candidates of the retrieved passages and the features the evidence model scores them by.

One row per candidate sentence (exact article span, de-duplicated across overlapping chunks):

  cos, cos_gap          dense cosine to the question; minus the best cosine among the candidates
  nb_cos                best cosine of the neighbouring sentences (the answer's context may sit next door)
  bm25, bm25_rel        BM25 of the question against the candidate sentences as a corpus; / the best
  cover, cover_gap      IDF-weighted share of the question's terms in the sentence; minus the best
  cover_plain           unweighted share of the question's terms
  nb_cover              best coverage of the neighbouring sentences
  keys_in               share of the question's key terms (numbers, names, dates) in the sentence
  keys_nowhere          share of them found in NO candidate (question-level: a changed fact)
  terms_nowhere         share of the question's content terms found in no candidate (question-level)
  asks_<kind>, has_<kind>  the question asks for a person/date/number/place/org; the sentence holds one
  type_miss             the question asks for a kind and the sentence holds none
  rank_recip, hit_dense 1/(1+passage rank); the passage's dense score
  position, first       sentence position in its passage (0 = first); first sentence of the article
  log_words, short      log(1+words); fewer than SHORT_WORDS words
  heading               looks like a heading: begins a line, no closing punctuation, mostly capitalised words
  novelty               share of the sentence's terms that are not in the question
  kind_lead             the asked-for kind is in the sentence's lead: a person/org as its subject ("Xue Kan, Secretary
                        ..., chaired"; after an opening adverbial: "From July 17 to 18, Chen Jining, ..., led"),
                        another kind in its first clause ("On June 20th, ...")
  cos_rank, cover_rank, cos_z   1/(1+rank) of the cosine and the coverage among the question's candidates; cosine z-score
  focus_in, focus_nowhere       share of the question's focus words ("how many *visitors*") in the sentence; in none
  typed_cover, typed_best       coverage counted only when the sentence holds the asked-for kind; its best (question-level)
  typed_cos_best                best cosine among sentences holding the asked-for kind (question-level)
  subst                 the question's facts the sentence replaces by another in the same context ("in *Beijing*"
                        vs "in *Shanghai*": a changed fact, `rag.answer.mismatch`)
  subst_place           the question's facts placed by a preposition that the sentence places elsewhere ("the expo
                        in *Beijing*" vs "opened in *Shanghai*"), fewest over the question's parts (refusal only)

Chinese: terms are jieba's words (`TermAnalyzer.content_terms`), a question's Han terms are held by a sentence
where their characters occur, the kinds and leads read Chinese (`rag.answer.answer_type`, `rag.answer.lead`), and
an English question reaches Chinese candidates through `rag.answer.bridge`; text without Han takes the old code.

IDF and BM25 statistics are computed over the candidates themselves, so a word in every candidate
(the collection's own topic) counts for little. Nothing here is a threshold on the answer: the
model learns the weights (`eval/train_answerer.py`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
import numpy as np
import Stemmer

from rag.answer.answer_type import KINDS, answer_kind, holds_kind
from rag.answer.bridge import TermBridge, question_words
from rag.answer.citations import ArticleLookup, SentenceSpan, passage_sentences
from rag.answer.lead import lead_clause
from rag.answer.mismatch import AskedPlacements, sentence_index, tokens
from rag.answer.parts import question_parts
from rag.cite.terms import extract_key_terms
from rag.embed.protocols import QueryEncoder as TextEncoder
from rag.lexicon import COMMON_WORDS, FOCUS_STOP_WORDS
from rag.models import ChunkSentences, Hit
from rag.zh.pos import name_like
from rag.zh.question import focus_phrase, is_question_word
from rag.zh.script import han_text, has_han
from rag.zh.segment import cut, cut_for_search
from rag.zh.stopwords import is_stop
from rag.zh.words import han_split, mixed_words

# Snapshot.sentences: chunk row ids -> their stored sentences with index-time vectors.
SentenceVectors = Callable[[list[int]], dict[int, ChunkSentences]]

SHORT_WORDS = 6  # datelines and fragments are shorter than this (a feature, the model weighs it)
BM25_K1, BM25_B = 1.2, 0.75  # the usual Okapi defaults; sentences are short, so b matters little

_WORD = re.compile(r"[^\W_][\w'’\-]*")
# The question's focus: the words naming what is asked for ("how many *visitors*", "which German *company*"):
# up to FOCUS_WORDS words after the question word, stopping at an auxiliary, a preposition or a past-tense verb.
_FOCUS_START = re.compile(r"\b(?:how (?:many|much)|which|what|whose)\s+", re.I)
FOCUS_WORDS = 3
# A plural noun ("cities", "stores"; not "business", "campus", "basis"): what "how many" counts, its head.
_PLURAL = re.compile(r"[a-z][\w'’\-]*[^su'’]s")

FEATURES: tuple[str, ...] = (
    "cos", "cos_gap", "nb_cos", "bm25", "bm25_rel", "cover", "cover_gap", "cover_plain", "nb_cover",
    "keys_in", "keys_nowhere", "terms_nowhere",
    *(f"asks_{k}" for k in KINDS), *(f"has_{k}" for k in KINDS), "type_miss",
    "rank_recip", "hit_dense", "position", "first", "log_words", "short", "heading", "novelty",
    "kind_lead", "cos_rank", "cover_rank", "cos_z", "focus_in", "focus_nowhere", "typed_cover", "typed_best", "typed_cos_best",
    "subst", "subst_place",
)


# Question-level features of the refusal stage: how well the best candidates answer, and whether what the
# question names (key terms, content terms, its focus phrase, the asked-for kind) occurs in any evidence.
QUESTION_FEATURES: tuple[str, ...] = (
    "top_logit", "margin", "keys_nowhere", "terms_nowhere", "focus_nowhere", "typed_best", "typed_cos_best",
    "cos_max", "cover_max", "top_focus_in", "top_keys_in", "top_type_miss", "hit_dense0", "top_subst",
    "top_subst_place",
)
_COL = {name: j for j, name in enumerate(FEATURES)}


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def question_features(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One row of QUESTION_FEATURES from a question's candidate features and their scores."""
    if len(probs) == 0:
        return np.zeros(len(QUESTION_FEATURES))
    order = np.argsort(-probs, kind="stable")
    b = order[0]
    top = _logit(float(probs[b]))
    second = _logit(float(probs[order[1]])) if len(order) > 1 else _logit(0.0)
    c = _COL
    return np.array([
        top, top - second, x[0, c["keys_nowhere"]], x[0, c["terms_nowhere"]], x[0, c["focus_nowhere"]],
        x[0, c["typed_best"]], x[0, c["typed_cos_best"]], x[:, c["cos"]].max(), x[:, c["cover"]].max(),
        x[b, c["focus_in"]], x[b, c["keys_in"]], x[b, c["type_miss"]], x[0, c["hit_dense"]], x[b, c["subst"]],
        x[b, c["subst_place"]],
    ], dtype=np.float64)


@dataclass(frozen=True)
class Candidates:
    """The candidate sentences of one question, their feature matrix (rows = spans) and the question's kind."""

    spans: list[SentenceSpan]
    x: np.ndarray  # float32 [n, len(FEATURES)]
    kind: str | None
    # The vectors the cosines came from, kept so that composing (question parts, clause windows) scores
    # again without encoding anything: one row per span, and the question's vector.
    vectors: np.ndarray | None = None
    query_vector: np.ndarray | None = None

    def row(self, i: int) -> dict[str, float]:
        return {name: round(float(v), 4) for name, v in zip(FEATURES, self.x[i])}


class TermAnalyzer:
    """Stemmed content words plus key terms; one English stemmer per instance (not thread-shared)."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("english")

    def content_terms(self, text: str) -> list[str]:
        if han_text(text):
            return self._mixed_terms(text)
        words = [w.casefold().strip("'’-") for w in _WORD.findall(text)]
        words = [w for w in words if len(w) > 1 and w not in COMMON_WORDS]
        return self._stemmer.stemWords(words)

    def _mixed_terms(self, text: str) -> list[str]:
        """Content terms of text with Han runs: jieba's words with their dictionary sub-words ("上海市政府" also
        "上海", "政府": a question and a sentence cut the same name differently less often), without stop words,
        question words ("哪一年", "多少岁") and single characters (as English drops one-letter words); the Latin
        pieces between as English."""
        out: list[str] = []
        for piece, han in han_split(text):
            if not han:
                out.extend(self.content_terms(piece))
                continue
            for word in cut(piece):
                if not is_stop(word) and not is_question_word(word):
                    out.extend(w for w in cut_for_search(word) if len(w) > 1 and not is_stop(w))
        return out

    def focus_terms(self, question: str) -> set[str]:
        """Stemmed content words of the question's focus phrase (empty when it has none, e.g. "who")."""
        if han_text(question) and (phrase := focus_phrase(question)):
            return set(self.content_terms(phrase))  # "…的总投资是多少" -> 总投资 (rag.zh.question)
        m = _FOCUS_START.search(question)
        if not m:
            return set()
        rest = _WORD.findall(question[m.end():])
        while rest and rest[0].casefold() in ("is", "was", "are", "were", "the", "a", "an"):
            rest = rest[1:]  # "what is the tuition fee": the focus follows the copula
        words = []
        for w in rest[:FOCUS_WORDS]:
            low = w.casefold()
            if low in FOCUS_STOP_WORDS or (low.endswith("ed") and len(low) > 4):
                break
            words.append(w)
            if m.group(0).casefold().startswith("how many") and _PLURAL.fullmatch(low):
                break  # "how many *cities* take part": the plural noun ends the phrase, a verb follows
        return set(self.content_terms(" ".join(words)))

    def terms(self, text: str) -> set[str]:
        return set(self.content_terms(text)) | {f"#{t}" for t in extract_key_terms(text)}


SUBJECT_KINDS = ("person", "org")  # kinds a question asks of a sentence's subject ("who chaired", "which ministry signed")


def word_count(text: str) -> int:
    """Words of a sentence: Latin words as `_WORD` finds them; in Han text jieba's words (a Han run is not one word)."""
    return len(mixed_words(text, _WORD)) if han_text(text) else len(_WORD.findall(text))


def _heading_like(text: str) -> bool:
    if han_text(text):  # no capitals in Chinese: a short line without closing punctuation
        return text.rstrip()[-1:] not in ".!?\"'”)。！？" and word_count(text) < SHORT_WORDS
    words = _WORD.findall(text)
    if not words or text.rstrip()[-1:] in ".!?\"'”)":
        return False
    caps = sum(w[0].isupper() for w in words if w.casefold() not in COMMON_WORDS)
    content = sum(1 for w in words if w.casefold() not in COMMON_WORDS) or 1
    return caps / content > 0.6 or len(words) < SHORT_WORDS


# Source code that a page's <pre> block left as a "sentence" ("fn main() { let b = Box::new(5); ... }"): it does
# not end as a sentence does, it holds a mark only code uses (a brace, a semicolon, "::", "->", "=>"), and
# brackets, semicolons, "::", "->" or "=" are a large share of its tokens. Parentheses alone are prose too
# (SQuAD: "the ideals (0), (2), (3), (5), (7), (11), …", "(or "poison").[n 1]").
_CODE_MARKS = re.compile(r"[{}\[\]();=]|::|->|=>")
_CODE_ONLY = re.compile(r"[{};]|::|->|=>")
_SENTENCE_END = ".!?:\"'”’"
_HAN_SENTENCE_END = "。！？」』”)"
CODE_MARKS_PER_WORD = 0.3  # prose naming a type ("Box<T>", "Vec<i32>") has a few per sentence, code many


def looks_like_code(text: str) -> bool:
    """A candidate that is a piece of source code, not a sentence: never quoted as an answer."""
    t = text.rstrip()
    if not t or t[-1] in _SENTENCE_END or not _CODE_ONLY.search(t):
        return False
    if han_text(t):  # "判处有期徒刑十一年,并处罚金…;以…罪" (NFKC makes ；ASCII): Chinese prose has no spaces to count
        return t[-1] not in _HAN_SENTENCE_END and len(_CODE_MARKS.findall(t)) >= max(3, CODE_MARKS_PER_WORD * word_count(t))
    words = len(t.split())
    return len(_CODE_MARKS.findall(t)) >= max(3, CODE_MARKS_PER_WORD * words)


def _bm25(q_terms: list[str], docs: list[list[str]]) -> np.ndarray:
    n = len(docs)
    avg = sum(len(d) for d in docs) / max(n, 1) or 1.0
    df = Counter(t for d in docs for t in set(d))
    out = np.zeros(n, dtype=np.float32)
    for i, d in enumerate(docs):
        tf = Counter(d)
        norm = BM25_K1 * (1 - BM25_B + BM25_B * len(d) / avg)
        for t in set(q_terms):
            if tf[t]:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                out[i] += idf * tf[t] * (BM25_K1 + 1) / (tf[t] + norm)
    return out


class FeatureExtractor:
    """Builds the candidates of one question and their features (one batched encode call)."""

    def __init__(self, encoder: TextEncoder) -> None:
        self.encoder = encoder
        self.analyzer = TermAnalyzer()
        self.bridge = TermBridge(encoder)

    def _bridge(self, question: str, spans: list[SentenceSpan], s_lists: list[list[str]], s_terms: list[set[str]]) -> None:
        """An English question over Chinese candidates: a Chinese sentence holding a translation of a question word
        (`rag.answer.bridge`) holds that word's terms (its stem, its key term), in place."""
        han = [i for i, s in enumerate(spans) if han_text(s.text)]
        # jieba's words, one-character ones too ("people" ~ 人 0.88), matched as whole words; longer ones as substrings
        words = {i: set(mixed_words(spans[i].text, _WORD)) | set(s_lists[i]) for i in han}
        found = self.bridge.translations(question_words(question), {w for i in han for w in words[i] if has_han(w)},
                                         question)
        terms = {e: self.analyzer.terms(e) for e in found}
        for i in han:
            held = [e for e, zh in found.items() if any(z in words[i] or (len(z) > 1 and z in spans[i].text) for z in zh)]
            for e in held:
                s_terms[i] |= terms[e]
                s_lists[i].extend(t for t in terms[e] if not t.startswith("#"))

    def candidates(self, question: str, hits: list[Hit], articles: ArticleLookup,
                   sentence_vectors: SentenceVectors | None = None, query_vector: np.ndarray | None = None) -> Candidates:
        """The candidates of the retrieved passages. With `sentence_vectors` (the snapshot's stored sentence
        vectors) and `query_vector` (the retriever's) nothing is encoded; without them the question and any
        sentence without a stored vector are (one batched call)."""
        spans = [s for s in passage_sentences(hits, articles) if s.text.strip()]
        stored: dict[tuple[str, int, int], np.ndarray] = {}
        if sentence_vectors is not None and spans:
            rows = sorted({h.passage.row_id for h in hits if h.passage.row_id is not None})
            for cs in sentence_vectors(rows).values():
                for (a, b), v in zip(cs.spans, cs.vectors):
                    stored[(cs.doc_id, a, b)] = v
        return self.featurize(question, spans, hits, stored, query_vector)

    def featurize(self, question: str, spans: list[SentenceSpan], hits: list[Hit],
                  stored: dict[tuple[str, int, int], np.ndarray] | None = None,
                  query_vector: np.ndarray | None = None) -> Candidates:
        """Features of `spans` for `question`. `stored`: vectors by (doc_id, start, end); `query_vector`:
        the question's. Whatever is not given is encoded, in one call (none when both cover everything)."""
        kind = answer_kind(question)
        if not spans:
            return Candidates([], np.zeros((0, len(FEATURES)), dtype=np.float32), kind, query_vector=query_vector)
        stored = stored or {}
        missing = [s.text for s in spans if (s.doc_id, s.start, s.end) not in stored]
        to_encode = missing if query_vector is not None else [question, *missing]
        fresh = iter(self.encoder.encode(to_encode) if to_encode else ())
        qvec = np.asarray(query_vector if query_vector is not None else next(fresh), dtype=np.float32)
        svecs = np.stack([stored[k] if (k := (s.doc_id, s.start, s.end)) in stored else next(fresh) for s in spans])
        cos = (svecs @ qvec).astype(np.float32)
        an = self.analyzer
        q_list = an.content_terms(question)
        q_terms = set(q_list) | {f"#{t}" for t in extract_key_terms(question)}
        if han_text(question):  # names jieba cut apart in the question ("华|住") are key terms too
            q_terms |= {f"#{t}" for t in name_like(question)}
        q_keys = {t for t in q_terms if t.startswith("#")}
        s_lists = [an.content_terms(s.text) for s in spans]
        s_terms = [set(lst) | {f"#{t}" for t in extract_key_terms(s.text)} for lst, s in zip(s_lists, spans)]
        if not han_text(question) and any(han_text(s.text) for s in spans):
            self._bridge(question, spans, s_lists, s_terms)
        focus = an.focus_terms(question)
        han_q = {t for t in q_terms | focus if has_han(t)}
        if han_q:  # Chinese has no spaces: a Han term is held where its characters occur, however jieba cut there
            s_terms = [st | {t for t in han_q if t.removeprefix("#") in s.text} for st, s in zip(s_terms, spans)]
        n = len(spans)
        idf = {t: math.log(1.0 + (n + 1) / (1 + sum(t in st for st in s_terms))) for t in q_terms}
        total = sum(idf.values()) or 1.0
        cover = np.array([sum(idf[t] for t in q_terms if t in st) / total for st in s_terms], dtype=np.float32)
        plain = np.array([len(q_terms & st) / max(len(q_terms), 1) for st in s_terms], dtype=np.float32)
        keys_in = np.array([len(q_keys & st) / len(q_keys) if q_keys else 1.0 for st in s_terms], dtype=np.float32)
        union = set().union(*s_terms)
        keys_nowhere = len(q_keys - union) / len(q_keys) if q_keys else 0.0
        content_q = {t for t in q_terms if not t.startswith("#")}
        terms_nowhere = len(content_q - union) / len(content_q) if content_q else 0.0
        bm25 = _bm25(q_list, s_lists)
        bm25_max = float(bm25.max()) or 1.0
        # neighbours: the sentences before and after in the same passage
        prev_same = [i > 0 and spans[i - 1].hit_index == spans[i].hit_index for i in range(n)]
        next_same = [i + 1 < n and spans[i + 1].hit_index == spans[i].hit_index for i in range(n)]

        def neighbours(v: np.ndarray) -> np.ndarray:
            return np.array([max(v[i - 1] if prev_same[i] else 0.0, v[i + 1] if next_same[i] else 0.0)
                             for i in range(n)], dtype=np.float32)

        nb_cos, nb_cover = neighbours(cos), neighbours(cover)
        # per-question normalisation: where the sentence stands among this question's candidates
        cos_rank = np.empty(n, dtype=np.float32)
        cos_rank[np.argsort(-cos, kind="stable")] = np.arange(n)
        cover_rank = np.empty(n, dtype=np.float32)
        cover_rank[np.argsort(-cover, kind="stable")] = np.arange(n)
        cos_z = (cos - cos.mean()) / (cos.std() + 1e-3)
        focus_in = np.array([len(focus & st) / len(focus) if focus else 1.0 for st in s_terms], dtype=np.float32)
        focus_nowhere = len(focus - union) / len(focus) if focus else 0.0
        has_kind = np.array([holds_kind(kind, s.text, question) for s in spans], dtype=bool) if kind else np.ones(n, bool)
        typed_cover = np.where(has_kind, cover, 0.0).astype(np.float32)
        typed_cos = np.where(has_kind, cos, 0.0).astype(np.float32)
        q_facts = tokens(question)
        q_placed = AskedPlacements.of([tokens(p) for p in question_parts(question)])
        starts: dict[int, int] = {}
        counts = Counter(s.hit_index for s in spans)
        x = np.zeros((n, len(FEATURES)), dtype=np.float32)
        col = {name: j for j, name in enumerate(FEATURES)}
        for i, s in enumerate(spans):
            pos = starts.get(s.hit_index, 0)
            starts[s.hit_index] = pos + 1
            words = word_count(s.text)
            hit = hits[s.hit_index]
            mismatch = sentence_index(s.text)
            row = {
                "cos": cos[i], "cos_gap": cos[i] - cos.max(), "nb_cos": nb_cos[i],
                "bm25": math.log1p(bm25[i]), "bm25_rel": bm25[i] / bm25_max,
                "cover": cover[i], "cover_gap": cover[i] - cover.max(), "cover_plain": plain[i], "nb_cover": nb_cover[i],
                "keys_in": keys_in[i], "keys_nowhere": keys_nowhere, "terms_nowhere": terms_nowhere,
                "rank_recip": 1.0 / (1 + s.hit_index), "hit_dense": hit.dense_score or 0.0,
                "position": pos / max(counts[s.hit_index] - 1, 1), "first": float(s.start == 0),
                "log_words": math.log1p(words), "short": float(words < SHORT_WORDS),
                "heading": float(s.line_start and _heading_like(s.text)),
                "novelty": len(s_terms[i] - q_terms) / max(len(s_terms[i]), 1),
                "cos_rank": 1.0 / (1 + cos_rank[i]), "cover_rank": 1.0 / (1 + cover_rank[i]), "cos_z": cos_z[i],
                "focus_in": focus_in[i], "focus_nowhere": focus_nowhere, "typed_cover": typed_cover[i],
                "typed_best": typed_cover.max(), "typed_cos_best": typed_cos.max(),
                "subst": mismatch.substituted(q_facts), "subst_place": mismatch.replaced_placements(q_placed),
            }
            if kind is not None:
                has = bool(has_kind[i])
                # a person or organisation leads as the subject; a date, number or place often in an opener
                lead = lead_clause(s.text, skip_openers=kind in SUBJECT_KINDS)
                row["kind_lead"] = float(has and holds_kind(kind, lead, question))
                row[f"asks_{kind}"] = 1.0
                row[f"has_{kind}"] = float(has)
                row["type_miss"] = float(not has)
            for name, v in row.items():
                x[i, col[name]] = v
        return Candidates(spans, x, kind, vectors=svecs, query_vector=qvec)
