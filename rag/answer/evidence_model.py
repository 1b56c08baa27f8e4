"""The learned evidence model, applied in plain numpy (no scikit-learn at query time: its import alone
costs 1-1.5 s of cold start, and a pickle would tie the file to one scikit-learn version).

Two stages (one file, JSON, `rag/answer/evidence_model.json`, written by `rag eval train-answerer`):
1. The sentence scorer ranks candidates: the probability that a sentence answers the question.
   `features`: the names of the candidate columns it reads (a subset of `rag.answer.features.FEATURES`);
   `kind`: "logistic" (standardisation + coefficients) or "trees" (gradient-boosted trees: per tree
   the node arrays feature/threshold/left/right/value/leaf, summed with `baseline`, then a sigmoid);
   `part_threshold`: a further sentence (second part, another article) is taken only above it.
2. The refusal model: logistic regression over `QUESTION_FEATURES` (the best candidates' scores and
   whether what the question names occurs in any evidence) gives the probability that the question is
   answered right; `threshold`, the one refusal threshold: refuse below it.
`cv`: the cross-validated figures recorded when it was trained (tests reproduce them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.features import FEATURES, QUESTION_FEATURES, question_features

MODEL_FILE = Path(__file__).with_name("evidence_model.json")
FORMAT = 2


class ModelFileError(ValueError):
    """The evidence model file is missing, malformed or trained on other features."""


@dataclass(frozen=True)
class Tree:
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    leaf: np.ndarray
    missing_left: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        """This tree's leaf value for each row (the walk is Forest's, over a forest of one)."""
        return Forest.stack((self,)).predict(x)[0]


@dataclass(frozen=True)
class Forest:
    """All trees stacked (node arrays padded to the largest tree): one walk down the levels for every tree
    and row at once. Walking tree by tree cost ~55 us of numpy overhead per tree, 100 trees a call."""

    nodes: Tree  # the same node arrays as one tree's, each [trees, nodes]

    @classmethod
    def stack(cls, trees: tuple[Tree, ...]) -> Forest:
        width = max(len(t.feature) for t in trees)
        fills = {"feature": 0, "threshold": 0.0, "left": 0, "right": 0, "value": 0.0, "leaf": True, "missing_left": True}

        def pad(name: str) -> np.ndarray:
            rows = [getattr(t, name) for t in trees]
            return np.stack([np.concatenate([r, np.full(width - len(r), fills[name], dtype=r.dtype)]) for r in rows])

        return cls(Tree(**{name: pad(name) for name in fills}))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """[trees, rows]: each tree's leaf value for each row."""
        n = self.nodes
        t = np.arange(n.feature.shape[0])[:, None]
        node = np.zeros((n.feature.shape[0], len(x)), dtype=np.int64)
        rows = np.arange(len(x))[None, :]
        for _ in range(64):  # depth bound; trees here are far shallower
            active = ~n.leaf[t, node]
            if not active.any():
                break
            v = x[rows, n.feature[t, node]]
            go_left = np.where(np.isnan(v), n.missing_left[t, node], v <= n.threshold[t, node])
            node = np.where(active, np.where(go_left, n.left[t, node], n.right[t, node]), node)
        return n.value[t, node]


@dataclass(frozen=True)
class Logistic:
    """Standardised logistic regression in numpy."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.coef + self.intercept

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Logistic:
        return cls(np.array(d["mean"]), np.array(d["scale"]), np.array(d["coef"]), float(d["intercept"]))


@dataclass(frozen=True)
class EvidenceModel:
    kind: str
    threshold: float  # refusal: refuse when the answerability is below it
    columns: tuple[str, ...] = FEATURES  # candidate features the sentence scorer reads
    part_threshold: float = 0.5  # further sentences (parts, other articles) only at or above this probability
    refusal: Logistic | None = None  # None: answerability = the best candidate's probability
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    coef: np.ndarray | None = None
    intercept: float = 0.0
    baseline: float = 0.0
    trees: tuple[Tree, ...] = ()
    cv: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def logits(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.columns != FEATURES:
            x = x[:, [FEATURES.index(c) for c in self.columns]]
        if self.kind == "logistic":
            assert self.mean is not None and self.scale is not None and self.coef is not None
            return ((x - self.mean) / self.scale) @ self.coef + self.intercept
        out = np.full(len(x), self.baseline, dtype=np.float64)
        if not self.trees:  # a model of no trees scores its baseline
            return out
        for v in self._forest.predict(x):  # summed tree by tree, in order: the same floats as one tree at a time
            out += v
        return out

    @cached_property
    def _forest(self) -> Forest:
        return Forest.stack(self.trees)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probability that each candidate sentence answers the question."""
        if len(x) == 0:
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-self.logits(x)))

    def answerability(self, x: np.ndarray, probs: np.ndarray) -> float | None:
        """Probability that the question is answered right by its best candidate (None: no candidate)."""
        if len(probs) == 0:
            return None
        if self.refusal is None:
            return float(probs.max())
        z = float(self.refusal.logits(question_features(x, probs)[None])[0])
        return 1.0 / (1.0 + np.exp(-z))

    def describe(self) -> str:
        fig = self.cv.get("summary", "")
        return f"{self.source} ({self.kind}, threshold {self.threshold:.3f}{'; ' + fig if fig else ''})"

    # ------------------------------------------------------------ file format

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"format": FORMAT, "kind": self.kind, "features": list(self.columns),
                             "threshold": self.threshold, "part_threshold": self.part_threshold, "cv": self.cv}
        if self.refusal is not None:
            d["refusal"] = {"features": list(QUESTION_FEATURES), **self.refusal.to_json()}
        if self.kind == "logistic":
            assert self.mean is not None and self.scale is not None and self.coef is not None
            d |= {"mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                  "intercept": self.intercept}
        else:
            d |= {"baseline": self.baseline, "trees": [
                {k: getattr(t, k).tolist() for k in ("feature", "threshold", "left", "right", "value", "leaf",
                                                    "missing_left")} for t in self.trees]}
        return d

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")


def load_model(path: Path | None = None) -> EvidenceModel:
    path = path or MODEL_FILE
    if not path.is_file():
        raise ModelFileError(f"evidence model {path} is missing: it ships with the package; "
                             "retrain it with `rag eval train-answerer`")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ModelFileError(f"evidence model {path} is unreadable ({e}); retrain with `rag eval train-answerer`") from e
    columns = tuple(d.get("features", ()))
    refusal = d.get("refusal")
    if (d.get("format") != FORMAT or not columns or not set(columns) <= set(FEATURES)
            or (refusal is not None and tuple(refusal.get("features", ())) != QUESTION_FEATURES)):
        raise ModelFileError(f"evidence model {path} was trained on other features (format {d.get('format')}); "
                             "retrain it with `rag eval train-answerer`")
    common = {"threshold": float(d["threshold"]), "cv": d.get("cv", {}), "source": path.name, "columns": columns,
              "part_threshold": float(d.get("part_threshold", d["threshold"])),
              "refusal": Logistic.from_json(refusal) if refusal is not None else None}
    if d["kind"] == "logistic":
        return EvidenceModel(kind="logistic", mean=np.array(d["mean"]), scale=np.array(d["scale"]),
                             coef=np.array(d["coef"]), intercept=float(d["intercept"]), **common)
    trees = tuple(
        Tree(feature=np.array(t["feature"], dtype=np.int64), threshold=np.array(t["threshold"], dtype=np.float64),
             left=np.array(t["left"], dtype=np.int64), right=np.array(t["right"], dtype=np.int64),
             value=np.array(t["value"], dtype=np.float64), leaf=np.array(t["leaf"], dtype=bool),
             missing_left=np.array(t["missing_left"], dtype=bool))
        for t in d["trees"]
    )
    return EvidenceModel(kind="trees", baseline=float(d["baseline"]), trees=trees, **common)
