"""Refusal by evidence: decline to answer when the retrieved passages are too weak to support one.

The prompt alone cannot be trusted to refuse (and the extractive answerer has no prompt), so the
decision is made on scores before any answer is composed:
- best dense cosine of the question to a retrieved chunk < settings.refusal_min_dense: nothing in
  the collection is about the question;
- best answer-sentence score (`rag.answer.evidence`, cosine + term overlap + answer type)
  < settings.refusal_min_support: passages are on topic but no sentence says what was asked.

How the thresholds were chosen (`python -m rag.answer.calibrate`, procedure in its docstring):
index each corpus, retrieve k=5 with HybridRetriever, record best dense cosine and best sentence
score per question of seeds_dev (15 answerable, 2 not) and SQuAD 2.0 dev (124 / 126); keep the
pairs that refuse both unanswerable seeds questions and answer >= 90 % of the answerable ones with
a safety margin, and among them take the best SQuAD balanced accuracy. Result in CALIBRATION.
"""

from __future__ import annotations

from rag.models import Hit
from rag.settings import Settings

# Written by hand from the output of `python -m rag.answer.calibrate` (see module docstring).
CALIBRATION = """
2024 run (MiniLM, chunk_tokens=200, k=5). Quantiles 10/25/50/75/90 %:
  seeds  answerable    dense   .497 .598 .643 .718 .736   support .794 .899 1.020 1.136 1.233
  seeds  unanswerable  dense   .274 .590                  support .494 .640           (both values)
  squad2 answerable    dense   .397 .505 .614 .682 .730   support .724 .846 .962 1.068 1.206
  squad2 unanswerable  dense   .371 .450 .527 .608 .680   support .605 .737 .843 .959 1.068
Chosen: refusal_min_dense = 0.22, refusal_min_support = 0.69.
  seeds:  15/15 answerable answered, 2/2 unanswerable refused.
  squad2: 116/124 answered, 25/126 unanswerable refused (balanced accuracy 0.567).
SQuAD 2.0's unanswerables are written against the very paragraph retrieved (same words, one fact
changed), so score thresholds separate them poorly (AUC: support 0.68, dense 0.64); refusing more
of them would cost about one answerable question per unanswerable one caught.
"""


class RefusalPolicy:
    def __init__(self, settings: Settings) -> None:
        self.min_dense = settings.refusal_min_dense
        self.min_support = settings.refusal_min_support

    def should_refuse(self, hits: list[Hit], best_sentence_score: float | None) -> tuple[bool, str]:
        """(refuse?, reason for the user). Scores that are missing (a BM25-only hit) are not held against it."""
        if not hits:
            return True, "No passage was retrieved for this question."
        dense = [h.dense_score for h in hits if h.dense_score is not None]
        if dense and max(dense) < self.min_dense:
            return True, (
                f"The closest passage is only weakly related to the question "
                f"(similarity {max(dense):.2f} < {self.min_dense:.2f})."
            )
        if best_sentence_score is None:
            return True, "The retrieved passages hold no sentence that could answer the question."
        if best_sentence_score < self.min_support:
            return True, (
                f"No sentence in the retrieved passages answers the question well enough "
                f"(support {best_sentence_score:.2f} < {self.min_support:.2f})."
            )
        return False, ""
