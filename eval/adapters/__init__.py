"""Dataset adapters: each returns an EvalSet of EvalQuestions (and an EvalCorpus where it has one)."""

from eval.adapters.base import DatasetError, EvalCorpus, EvalDocument, EvalQuestion, EvalSet
from eval.adapters.beir import load_beir
from eval.adapters.rgb import load_rgb
from eval.adapters.seeds import load_seeds
from eval.adapters.squad2 import load_squad2

__all__ = [
    "DatasetError",
    "EvalCorpus",
    "EvalDocument",
    "EvalQuestion",
    "EvalSet",
    "load_beir",
    "load_rgb",
    "load_seeds",
    "load_squad2",
]
