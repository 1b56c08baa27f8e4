"""The lever search: each lever's settings tried on the tuning part, the best kept, then reported.

Greedy and in a fixed order (BM25 parameters, tokenisation, title, fusion, aggregation, PRF; then the
query-time models, which are reported but cannot replace the state): each
stage starts from the best configuration so far and keeps a change only if it raises nDCG@10 on
the tuning part by at least MIN_GAIN. The report part is scored for every row but never read to
choose anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from eval.bench.levers.bm25 import Bm25Scorer, Bm25Variant, Prf
from rag.store.bm25 import LEGACY_PARAMS
from eval.bench.levers.data import ChunkTable, QuerySet
from eval.bench.levers import adapter, sentences, titles
from eval.bench.levers.sentences import SentenceTable
from eval.bench.levers.titles import TitleVectors
from eval.bench.levers.learned import learned_rescorer, rocchio
from eval.bench.levers.score import Figures, FusionConfig, evaluate
from eval.metrics import percentile
from rag.retrieve.fusion import DocAggregation, FusionMethod


# A change must lift tuning nDCG@10 by this much to be kept: over 600 queries, two settings that
# rank alike differ by ~0.003 from which query happens to move, so smaller gains are noise that
# would cost code (and, for index-time BM25 parameters, a re-index) for nothing.
MIN_GAIN = 0.005


@dataclass
class Row:
    lever: str
    setting: str
    tune: Figures
    report: Figures
    ingest_s: float  # extra indexing work of this setting (BM25 build; 0 for query-time levers)
    query_p95_ms: float  # embed + dense + BM25 + fusion, one report query at a time
    chosen: bool = False
    tried: int = 1
    detail: dict[str, Any] = field(default_factory=dict)  # e.g. a learned model's coefficients
    ingest_note: str = ""  # the ingest cost in words, when it is not a BM25 build

    def as_dict(self) -> dict[str, Any]:
        def figs(f: Figures) -> dict[str, float]:
            return {"ndcg@10": round(f.ndcg10, 4), "recall@100": round(f.recall100, 4), "mrr@10": round(f.mrr10, 4)}

        return {"lever": self.lever, "setting": self.setting, "tune": figs(self.tune), "report": figs(self.report),
                "ingest_s": round(self.ingest_s, 2), "query_p95_ms": round(self.query_p95_ms, 2),
                "chosen": self.chosen, "tried": self.tried, **({"detail": self.detail} if self.detail else {})}


@dataclass
class Lab:
    """Everything a configuration is scored from; BM25 matrices cached per variant (and PRF)."""

    chunks: ChunkTable
    tune: QuerySet
    report: QuerySet
    dense: dict[str, np.ndarray]  # part name -> (queries, chunks) cosine
    embed_ms: list[float]  # single-query MiniLM encode + dense search, per report query
    query_vectors: dict[str, np.ndarray] = field(default_factory=dict)  # part name -> (queries, dim)
    sentences: SentenceTable | None = None  # every chunk sentence's vector, for the sentence list's row
    titles: TitleVectors | None = None  # untitled chunk vectors and title vectors, for the title rows
    _bm25: dict[tuple[Bm25Variant, Prf | None], tuple[dict[str, np.ndarray], float, list[float]]] = field(
        default_factory=dict)

    def bm25(self, variant: Bm25Variant, prf: Prf | None = None) -> tuple[dict[str, np.ndarray], float, list[float]]:
        """({part: scores}, build seconds, per-report-query BM25 ms) for a variant."""
        key = (variant, prf)
        if key not in self._bm25:
            scorer = Bm25Scorer(variant, self.chunks)
            fn: Callable[[str], np.ndarray] = scorer.scores if prf is None else (lambda q: scorer.prf_scores(q, prf))
            mats, ms = {}, []
            for part in (self.tune, self.report):
                rows = []
                for q in part.texts:
                    t = time.perf_counter()
                    rows.append(fn(q))
                    if part is self.report:
                        ms.append((time.perf_counter() - t) * 1000)
                mats[part.name] = np.stack(rows)
            self._bm25[key] = (mats, scorer.build_s, ms)
        return self._bm25[key]

    def row(self, lever: str, variant: Bm25Variant, prf: Prf | None, cfg: FusionConfig) -> Row:
        mats, build_s, bm25_ms = self.bm25(variant, prf)
        tune = evaluate(self.dense["tune"], mats["tune"], cfg, self.chunks, self.tune)
        report = evaluate(self.dense["report"], mats["report"], cfg, self.chunks, self.report)
        use_dense, use_bm25 = cfg.dense_weight > 0, cfg.bm25_weight > 0
        per_q = [(e if use_dense else 0.0) + (b if use_bm25 else 0.0) + f
                 for e, b, f in zip(self.embed_ms, bm25_ms, report.query_ms)]
        setting = cfg.label() if not use_bm25 else f"{cfg.label()}; BM25 {variant.label()}" + (
            f"; PRF {prf.docs} chunks, {prf.terms} terms, weight {prf.weight}" if prf else "")
        return Row(lever, setting, tune, report, build_s if use_bm25 else 0.0, percentile(per_q, 95))


@dataclass
class State:
    variant: Bm25Variant
    prf: Prf | None
    cfg: FusionConfig


def best_of(lab: Lab, lever: str, state: State, options: Iterable[State], rows: list[Row]) -> State:
    """Try every option on the tuning part; keep the best if it beats the current state by MIN_GAIN.

    The row shows the best option tried (kept or not), so the table says what each lever gave.
    """
    current = lab.row(lever, state.variant, state.prf, state.cfg)
    alt: State | None = None
    alt_row: Row | None = None
    tried = 0
    for opt in options:
        if opt == state:
            continue
        r = lab.row(lever, opt.variant, opt.prf, opt.cfg)
        tried += 1
        if alt_row is None or r.tune.ndcg10 > alt_row.tune.ndcg10 + 1e-9:
            alt, alt_row = opt, r
    if alt is None or alt_row is None:
        raise ValueError(f"{lever}: no option differs from the current setting")
    gain = alt_row.tune.ndcg10 - current.tune.ndcg10
    alt_row.tried = tried
    alt_row.chosen = gain >= MIN_GAIN
    if not alt_row.chosen:
        alt_row.setting += f" (tune gain {gain:+.4f} < {MIN_GAIN}: not kept)"
    rows.append(alt_row)
    print(f"  {lever}: {alt_row.setting}  tune {alt_row.tune.ndcg10:.4f} (current {current.tune.ndcg10:.4f}, "
          f"{tried} tried)  report {alt_row.report.ndcg10:.4f}", flush=True)
    return alt if alt_row.chosen else state


def search(lab: Lab, baseline: FusionConfig) -> tuple[list[Row], State]:
    rows: list[Row] = []
    v0 = Bm25Variant(params=LEGACY_PARAMS)  # what every index built before this table uses
    bm25_only = baseline.with_(dense_weight=0.0, bm25_depth=100)
    for lever, cfg in (("BM25 alone", bm25_only), ("dense alone", baseline.with_(bm25_weight=0.0, dense_depth=100)),
                       ("fused, today's default", baseline)):
        rows.append(lab.row(lever, v0, None, cfg))
        print(f"  {lever}: tune {rows[-1].tune.ndcg10:.4f} report {rows[-1].report.ndcg10:.4f}", flush=True)

    # BM25 levers are chosen on BM25 alone (their own ranking), then carried into fusion.
    s = State(v0, None, bm25_only)
    def with_params(**kw: Any) -> Bm25Variant:
        return replace(s.variant, params=replace(s.variant.params, **kw))

    s = best_of(lab, "BM25 k1, b (lucene)", s, (State(with_params(k1=k1, b=b), None, bm25_only)
                                                for k1 in (0.9, 1.2, 1.5, 2.0) for b in (0.5, 0.75, 1.0)), rows)
    s = best_of(lab, "BM25 variant", s, (State(with_params(method=m, delta=d), None, bm25_only)
                                         for m in ("robertson", "atire", "bm25l", "bm25+")
                                         for d in ((0.5, 1.0) if m in ("bm25l", "bm25+") else (0.5,))), rows)
    s = best_of(lab, "stemming, stop words", s, (State(with_params(stem=st, stopwords=sw), None, bm25_only)
                                                 for st in (True, False) for sw in (True, False)), rows)
    s = best_of(lab, "title in BM25", s, (State(replace(s.variant, title=t), None, bm25_only)
                                          for t in ("prefix", "none", "twice")), rows)

    # Fusion levers on the tuned BM25.
    s = State(s.variant, None, baseline)
    s = best_of(lab, "RRF k and weights", s, (
        State(s.variant, None, baseline.with_(rrf_k=k, dense_weight=w, bm25_weight=1.0))
        for k in (5, 10, 20, 40, 60, 100) for w in (0.75, 1.0, 1.25, 1.5)), rows)
    s = best_of(lab, "convex fusion (min-max)", s, (
        State(s.variant, None, baseline.with_(fusion=FusionMethod.CONVEX, dense_weight=w, bm25_weight=1 - w))
        for w in (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)), rows)
    s = best_of(lab, "candidate depth", s, (State(s.variant, None, s.cfg.with_(dense_depth=d, bm25_depth=d))
                                            for d in (30, 100, 200)), rows)
    s = best_of(lab, "chunk to document aggregation", s, (
        State(s.variant, None, s.cfg.with_(aggregation=a, top_n=n))
        for a, n in ((DocAggregation.MAX, 1), (DocAggregation.SUM, 2), (DocAggregation.SUM, 3))), rows)
    if s.cfg.fusion is FusionMethod.RRF and s.cfg.aggregation is not DocAggregation.NONE:
        # the constant may move once documents are aggregated
        s = best_of(lab, "RRF k and weights, re-tuned", s, (
            State(s.variant, None, s.cfg.with_(rrf_k=k, dense_weight=w))
            for k in (5, 10, 20, 40, 60, 100) for w in (0.75, 1.0, 1.25, 1.5)), rows)
    s = best_of(lab, "RM3 pseudo-relevance feedback", s, (
        State(s.variant, Prf(docs=d, terms=t, weight=w), s.cfg)
        for d in (5, 10) for t in (10, 20) for w in (0.2, 0.4) if (d, t) != (5, 20)), rows)
    if lab.titles is not None:
        rows.extend(title_rows(lab, s))
    if lab.sentences is not None:
        rows.append(sentence_list(lab, s))
    rows.extend(query_time_models(lab, s))
    rows.append(query_adapter(lab, s))
    final = lab.row("**chosen default**", s.variant, s.prf, s.cfg)
    final.chosen = True
    rows.append(final)
    return rows, s


def title_rows(lab: Lab, s: State) -> list[Row]:
    """Chunks embedded without their title (fusion weights re-tried), and a title-only third list.

    Reported, not folded into the state: keeping either would mean re-embedding the collection.
    """
    assert lab.titles is not None
    tv, qv = lab.titles, lab.query_vectors
    mats, _, bm25_ms = lab.bm25(s.variant, s.prf)
    current = evaluate(lab.dense["tune"], mats["tune"], s.cfg, lab.chunks, lab.tune).ndcg10
    untitled = {p: qv[p] @ tv.untitled.T for p in ("tune", "report")}
    cfgs = [s.cfg.with_(dense_weight=w, bm25_weight=round(1 - w, 4)) for w in titles.DENSE_WEIGHTS]
    tuned = [(evaluate(untitled["tune"], mats["tune"], c, lab.chunks, lab.tune), c) for c in cfgs]
    tune, cfg = max(tuned, key=lambda fc: fc[0].ndcg10)
    report = evaluate(untitled["report"], mats["report"], cfg, lab.chunks, lab.report)
    per_q = [e + b + r for e, b, r in zip(lab.embed_ms, bm25_ms, report.query_ms)]
    rows = [Row("title in the embedded text", f"chunk alone, {cfg.label()} (tune gain {tune.ndcg10 - current:+.4f})",
                tune, report, tv.encode_s, percentile(per_q, 95), tried=len(cfgs),
                ingest_note=f"a re-index: every chunk embedded again ({tv.encode_s:.0f} s here)")]
    best: tuple[Figures, float] | None = None
    for w in titles.TITLE_WEIGHTS:
        f = titles.evaluate_title_list(lab.dense["tune"], mats["tune"], qv["tune"], s.cfg, lab.chunks, tv, lab.tune, w)
        if best is None or f.ndcg10 > best[0].ndcg10 + 1e-9:
            best = (f, w)
    assert best is not None
    report = titles.evaluate_title_list(lab.dense["report"], mats["report"], qv["report"], s.cfg, lab.chunks, tv,
                                        lab.report, best[1])
    per_q = [e + b + r for e, b, r in zip(lab.embed_ms, bm25_ms, report.query_ms)]
    rows.append(Row("title-only vector list", f"weight {best[1]} (tune gain {best[0].ndcg10 - current:+.4f})",
                    best[0], report, 0.0, percentile(per_q, 95), tried=len(titles.TITLE_WEIGHTS)))
    for r in rows:
        print(f"  {r.lever}: {r.setting}  tune {r.tune.ndcg10:.4f} (current {current:.4f})  "
              f"report {r.report.ndcg10:.4f}", flush=True)
    return rows


def sentence_list(lab: Lab, s: State) -> Row:
    """The sentence list (eval/bench/levers/sentences.py) on the chosen state: depth x weight chosen on tune.

    Reported, not folded into the state: its default is also judged on the sample corpus (README).
    """
    assert lab.sentences is not None
    mats, _, bm25_ms = lab.bm25(s.variant, s.prf)
    current = evaluate(lab.dense["tune"], mats["tune"], s.cfg, lab.chunks, lab.tune).ndcg10
    best: tuple[float, int, float] | None = None
    for depth in sentences.DEPTHS:
        for weight in sentences.WEIGHTS:
            f = sentences.evaluate(lab.dense["tune"], mats["tune"], lab.query_vectors["tune"], s.cfg, lab.chunks,
                                   lab.sentences, lab.tune, depth, weight)
            if best is None or f.ndcg10 > best[0] + 1e-9:
                best = (f.ndcg10, depth, weight)
    assert best is not None
    _, depth, weight = best
    tune = sentences.evaluate(lab.dense["tune"], mats["tune"], lab.query_vectors["tune"], s.cfg, lab.chunks,
                              lab.sentences, lab.tune, depth, weight)
    report = sentences.evaluate(lab.dense["report"], mats["report"], lab.query_vectors["report"], s.cfg, lab.chunks,
                                lab.sentences, lab.report, depth, weight)
    per_q = [e + b + r for e, b, r in zip(lab.embed_ms, bm25_ms, report.query_ms)]
    row = Row("sentence list (best sentence of the top fused chunks)",
              f"depth {depth}, weight {weight} (tune gain {tune.ndcg10 - current:+.4f})", tune, report,
              lab.sentences.encode_s, percentile(per_q, 95), tried=len(sentences.DEPTHS) * len(sentences.WEIGHTS),
              ingest_note=f"none where `rag index` stored sentence vectors; else embedding them ({lab.sentences.encode_s:.0f} s here)")
    print(f"  {row.lever}: {row.setting}  tune {tune.ndcg10:.4f} (current {current:.4f})  report {report.ndcg10:.4f}",
          flush=True)
    return row


def query_time_models(lab: Lab, s: State) -> list[Row]:
    """Dense feedback (Rocchio) and the learned re-scorer, each against the chosen state's fused ranking.

    Neither is a fusion setting, so neither can replace the state here: a row says what it would
    give (tuning figures only decide), and the README says what was done with it.
    """
    mats, _, bm25_ms = lab.bm25(s.variant, s.prf)
    current = evaluate(lab.dense["tune"], mats["tune"], s.cfg, lab.chunks, lab.tune).ndcg10
    out: list[Row] = []
    best: tuple[float, Row] | None = None
    for k in (3, 5, 10):
        for beta in (0.3, 0.6, 1.0):
            fb = {p: rocchio(lab.chunks.vectors, lab.query_vectors[p], k, beta) for p in ("tune", "report")}
            tune = evaluate(fb["tune"][0], mats["tune"], s.cfg, lab.chunks, lab.tune)
            if best is None or tune.ndcg10 > best[0]:
                report = evaluate(fb["report"][0], mats["report"], s.cfg, lab.chunks, lab.report)
                per_q = [e + f + b + r for e, f, b, r in zip(lab.embed_ms, fb["report"][1], bm25_ms, report.query_ms)]
                best = (tune.ndcg10, Row("dense feedback (Rocchio)", f"top {k} dense chunks, beta {beta}", tune,
                                         report, 0.0, percentile(per_q, 95), tried=9))
    assert best is not None
    out.append(best[1])
    best = None
    for c in (0.03, 0.1, 1.0):  # inverse L2 strength, chosen on the cross-validated tuning figure
        tune, report, coef = learned_rescorer(lab.chunks, s.cfg, lab.dense, mats, lab.tune, lab.report, c)
        if best is None or tune.ndcg10 > best[0]:
            per_q = [e + b + r for e, b, r in zip(lab.embed_ms, bm25_ms, report.query_ms)]
            best = (tune.ndcg10, Row("learned re-scorer (logistic regression)",
                                     f"C={c}, 9 features of the fused candidates; tune figure 5-fold cross-validated",
                                     tune, report, 0.0, percentile(per_q, 95), tried=3))
            best[1].detail = {"coefficients": {k: round(v, 4) for k, v in coef.items()}}
    assert best is not None
    out.append(best[1])
    for r in out:
        gain = r.tune.ndcg10 - current
        r.setting += f" (tune gain {gain:+.4f})"
        print(f"  {r.lever}: {r.setting}  tune {r.tune.ndcg10:.4f} (current {current:.4f})  "
              f"report {r.report.ndcg10:.4f}", flush=True)
    return out


def query_adapter(lab: Lab, s: State, cfg: adapter.AdapterConfig = adapter.AdapterConfig()) -> Row:
    """The learned query adapter (eval/bench/levers/adapter.py) under the chosen fusion.

    The tuning figure is cross-validated by groups of claims sharing a relevant abstract (the
    honest one for unseen abstracts); the by-query figure is in the setting text.
    """
    mats, _, bm25_ms = lab.bm25(s.variant, s.prf)
    vecs, qv = lab.chunks.vectors, lab.query_vectors
    pos = adapter.positives(lab.chunks, lab.tune)
    figs = {}
    for name, folds in (("query", adapter.folds_by_query(len(pos))), ("group", adapter.folds_by_shared_document(lab.tune))):
        adapted = adapter.cross_validated(vecs, qv["tune"], pos, folds, cfg)
        figs[name] = evaluate(adapted @ vecs.T, mats["tune"], s.cfg, lab.chunks, lab.tune)
    matrix = adapter.fit(vecs, qv["tune"], pos, cfg)
    report = evaluate(adapter.adapt(qv["report"], matrix) @ vecs.T, mats["report"], s.cfg, lab.chunks, lab.report)
    current = evaluate(lab.dense["tune"], mats["tune"], s.cfg, lab.chunks, lab.tune).ndcg10
    per_q = [e + b + r for e, b, r in zip(lab.embed_ms, bm25_ms, report.query_ms)]  # + one 384x384 product
    row = Row("learned query adapter (384x384)",
              f"l2 {cfg.l2}, {cfg.steps} steps; tune figure cross-validated by groups of claims sharing an abstract "
              f"(by query: {figs['query'].ndcg10:.4f}) (tune gain {figs['group'].ndcg10 - current:+.4f})",
              figs["group"], report, 0.0, percentile(per_q, 95))
    print(f"  {row.lever}: {row.setting}  tune {row.tune.ndcg10:.4f} (current {current:.4f})  "
          f"report {row.report.ndcg10:.4f}", flush=True)
    return row
