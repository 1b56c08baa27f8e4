"""A learned query adapter: one 384x384 matrix applied to the MiniLM query vector, trained on the tuning qrels.

The document vectors stay as indexed; only the query moves (q' = normalise(q (I + A))), so any
store backend searches with it unchanged and a query pays one small matrix product. A is fitted
with a softmax loss over each tuning claim's top `CANDIDATES` dense chunks plus its relevant
chunks (a relevant document counts through any of its chunks), with an L2 pull towards the
identity, by full-batch Adam (torch, benchmark time only).

SciFact claims often share cited abstracts (315 of the 600 tuning claims share a relevant
abstract with another tuning claim; 127 of the 209 report claims share one with a tuning claim),
so a model can gain by learning *which* abstracts get cited. The tuning figure is therefore
cross-validated two ways: folds by query, and folds by connected group of claims that share a
relevant abstract (no held-out claim's abstract was a positive in training). Only the second
says whether the adapter helps on claims about abstracts it never saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eval.bench.levers.data import ChunkTable, QuerySet

CANDIDATES = 300
FOLDS = 5
SEED = 12


@dataclass(frozen=True)
class AdapterConfig:
    l2: float = 1e-3  # pull of A towards 0 (the plain query)
    steps: int = 50
    temperature: float = 0.05
    lr: float = 3e-3


def positives(chunks: ChunkTable, qs: QuerySet) -> list[np.ndarray]:
    """Chunk positions of each query's relevant documents."""
    pos_of = {d: i for i, d in enumerate(chunks.doc_ids)}
    out = []
    for q in qs.qrels:
        docs = [pos_of[d] for d, r in q.items() if r > 0 and d in pos_of]
        out.append(np.flatnonzero(np.isin(chunks.doc_index, docs)))
    return out


def fit(vectors: np.ndarray, queries: np.ndarray, pos: list[np.ndarray], cfg: AdapterConfig) -> np.ndarray:
    """The (dim x dim) matrix M = I + A to multiply query vectors by."""
    import torch  # noqa: PLC0415 - benchmark only

    width = CANDIDATES + max((len(p) for p in pos), default=1)
    cand = np.zeros((len(queries), width), dtype=np.int64)
    mask = np.zeros((len(queries), width), dtype=bool)
    first = queries @ vectors.T
    for i, p in enumerate(pos):
        top = np.argpartition(-first[i], CANDIDATES - 1)[:CANDIDATES]
        c = np.concatenate([p, np.setdiff1d(top, p)])[:width]
        cand[i, : len(c)], cand[i, len(c):] = c, c[-1]
        mask[i, : len(p)] = True
    torch.manual_seed(SEED)
    dim = vectors.shape[1]
    a = torch.zeros(dim, dim, requires_grad=True)
    eye = torch.eye(dim)
    q, cv, m = torch.tensor(queries), torch.tensor(vectors[cand]), torch.tensor(mask)
    opt = torch.optim.Adam([a], lr=cfg.lr)
    for _ in range(cfg.steps):
        q2 = torch.nn.functional.normalize(q @ (eye + a), dim=1)
        logits = torch.einsum("qd,qcd->qc", q2, cv) / cfg.temperature
        loss = (torch.logsumexp(logits, 1) - torch.logsumexp(logits.masked_fill(~m, -1e9), 1)).mean()
        loss = loss + cfg.l2 * (a**2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (eye + a).detach().numpy()


def adapt(queries: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    out = queries @ matrix
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def folds_by_query(n: int) -> np.ndarray:
    return np.random.default_rng(SEED).permutation(n) % FOLDS


def folds_by_shared_document(qs: QuerySet) -> np.ndarray:
    """Claims linked by a shared relevant document land in the same fold (union-find over documents)."""
    parent = list(range(len(qs.qrels)))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    owner: dict[str, int] = {}
    for i, q in enumerate(qs.qrels):
        for d, r in q.items():
            if r > 0:
                if d in owner:
                    parent[root(i)] = root(owner[d])
                else:
                    owner[d] = i
    groups = np.array([root(i) for i in range(len(qs.qrels))])
    unique = np.unique(groups)
    fold_of = dict(zip(unique[np.random.default_rng(SEED).permutation(len(unique))], np.arange(len(unique)) % FOLDS))
    return np.array([fold_of[g] for g in groups])


def cross_validated(vectors: np.ndarray, queries: np.ndarray, pos: list[np.ndarray], folds: np.ndarray,
                    cfg: AdapterConfig) -> np.ndarray:
    """Each query adapted by a matrix fitted on the other folds."""
    out = np.empty_like(queries)
    for f in np.unique(folds):
        train = np.flatnonzero(folds != f)
        test = np.flatnonzero(folds == f)
        out[test] = adapt(queries[test], fit(vectors, queries[train], [pos[i] for i in train], cfg))
    return out
