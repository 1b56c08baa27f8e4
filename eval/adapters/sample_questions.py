"""The development set over the bundled sample (eval/data/sample_questions.jsonl) and its checks.

Each line has the seeds fields (id, kind, question, answers, evidence) plus `split` (train | train2 | train3 | test | test2 | ... | test6),
`style` (who, when, list, two-article, paraphrase, ...), `parts` for list/two-part questions (each
part's alternatives; all parts must appear) and, for unanswerable questions, `about`: the start of
the title of the article the question is about (on topic, but the article does not answer it).

The split is fixed BY ARTICLE: `check_questions` finds the article(s) each question draws on
(every evidence string must occur verbatim in one article's normalised text) and fails if an
article serves both train and a test split. `train` is for tuning and fitting; `test` is looked at
only to report. `test2` is a second held-out set, written later in the way people type (lower case,
short, misspelt, paraphrased): it draws ONLY on the articles of the `test` split, so an article may
serve test and test2, never train and either; it is scored once, by someone who has not tuned on it.
`test3` is a third held-out set of the same kind and over the same test articles, written 2026-12-07 by
someone who did not tune the answerer; it is scored once, at the end. `test4`, `test5` and `test6` likewise, written later.
`train2` and `train3` are typed the same way over the `train` articles, to tune on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eval.metrics import answer_contains
from rag.models import Article

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = REPO / "eval" / "data" / "sample_questions.jsonl"
SPLITS = ("train", "train2", "train3", "test", "test2", "test3", "test4", "test5", "test6")
TYPED_TRAIN_SPLITS = ("train2", "train3")  # typed the way people type, over the train articles
TRAIN_SPLITS = ("train", *TYPED_TRAIN_SPLITS)  # tuned on
TEST_SPLITS = ("test", "test2", "test3", "test4", "test5", "test6")  # held out: never trained or tuned on


@dataclass
class SplitReport:
    """What `check_questions` found; `problems` empty means the file is sound."""

    problems: list[str] = field(default_factory=list)
    articles_of: dict[str, set[int]] = field(default_factory=dict)  # question id -> article indexes
    split_articles: dict[str, set[int]] = field(default_factory=dict)  # split -> article indexes
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> answerable/unanswerable


def read_questions(path: Path = QUESTIONS) -> list[dict]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: it ships with the repository (eval/data/sample_questions.jsonl)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def check_questions(rows: Sequence[dict], articles: Sequence[Article]) -> SplitReport:
    rep = SplitReport()
    seen: set[str] = set()
    for r in rows:
        qid = r.get("id", "?")
        if qid in seen:
            rep.problems.append(f"{qid}: duplicate id")
        seen.add(qid)
        split = r.get("split")
        if split not in SPLITS:
            rep.problems.append(f"{qid}: split {split!r} is not one of {SPLITS}")
            continue
        docs: set[int] = set()
        if r["kind"] == "unanswerable":
            if r["answers"] or r["evidence"]:
                rep.problems.append(f"{qid}: an unanswerable question has no answers and no evidence")
            about = [i for i, a in enumerate(articles) if a.title.startswith(r.get("about", "\0"))]
            if len(about) != 1:
                rep.problems.append(f"{qid}: `about` {r.get('about')!r} names {len(about)} articles, not one")
            docs.update(about)
        else:
            if not r["answers"] or not r["evidence"]:
                rep.problems.append(f"{qid}: an answerable question needs answers and evidence")
            for ev in r["evidence"]:
                found = [i for i, a in enumerate(articles) if ev in a.text]
                if not found:
                    rep.problems.append(f"{qid}: evidence {ev!r} is not verbatim in any article's normalised text")
                docs.update(found[:1])
            texts = [articles[i].text for i in docs]
            # the scorer's own match (word boundaries): gold "December 17" does not match "December 17th"
            if r["answers"] and not any(answer_contains(t, r["answers"]) for t in texts):
                rep.problems.append(f"{qid}: no answer of {r['answers']!r} is in the article(s) its evidence comes from")
            for ev in r["evidence"]:
                inside = [g for g in r["answers"] if _fold(g) in _fold(ev)]
                if inside and not answer_contains(ev, inside):
                    rep.problems.append(f"{qid}: answers {inside!r} sit inside longer words in its evidence {ev!r}")
            for part in r.get("parts", []):
                if not any(answer_contains(t, part) for t in texts):
                    rep.problems.append(f"{qid}: part {part!r} is not in its article(s)")
        rep.articles_of[qid] = docs
        rep.split_articles.setdefault(split, set()).update(docs)
        c = rep.counts.setdefault(split, {"answerable": 0, "unanswerable": 0})
        c["unanswerable" if r["kind"] == "unanswerable" else "answerable"] += 1
    train = set().union(*(rep.split_articles.get(s, set()) for s in TRAIN_SPLITS))
    for split in TEST_SPLITS:
        for i in sorted(train & rep.split_articles.get(split, set())):
            rep.problems.append(f"article {i} ({articles[i].title[:50]!r}) serves both train and {split} questions")
    # test2 and test3 are written over the test split's articles only (a second look at the same held-out articles)
    test = rep.split_articles.get("test", set())
    for r in rows:
        if r.get("split") in TEST_SPLITS[1:]:
            for i in sorted(rep.articles_of.get(r.get("id", "?"), set()) - test - train):
                rep.problems.append(f"{r.get('id')}: article {i} ({articles[i].title[:50]!r}) is not an article "
                                    f"of the test split: {r.get('split')} questions draw only on test articles")
    # Training labels every retrieved sentence that holds an evidence string as an answer, whatever its
    # article: an evidence string that also sits in an article of the other split would label that
    # article's sentence (e.g. a stock phrase about a speech, repeated in several press releases).
    held_out = set().union(*(rep.split_articles.get(s, set()) for s in TEST_SPLITS))
    for r in rows:
        split = r.get("split")
        if split not in SPLITS:
            continue
        other, others = ("test", held_out) if split in TRAIN_SPLITS else ("train", train)
        for ev in r.get("evidence") or []:
            hit = [i for i in others if ev in articles[i].text]
            if hit:
                rep.problems.append(f"{r.get('id')}: evidence {ev[:60]!r} is also in {len(hit)} article(s) of the "
                                    f"{other} split: quote a longer, unique stretch of its own article")
    return rep


def test_article_titles(articles: Sequence[Article], rows: Sequence[dict]) -> list[str]:
    """Titles of the articles the test split draws on (seeds questions on them are left out of training)."""
    rep = check_questions(rows, articles)
    return [articles[i].title for i in sorted(rep.split_articles.get("test", set()))]
