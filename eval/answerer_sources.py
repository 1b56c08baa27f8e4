"""Which training sources help the evidence model? Out-of-fold figures of `rag eval train-answerer`'s
cross-validation for several training pools, from ONE collection of candidates.

    python -m eval.answerer_sources --old-questions OLD.jsonl [--out FILE.json]

Pools (each with seeds_dev and SQuAD 2.0 dev, as the shipped model):
- `old`:  the sample `train` questions whose ids are in OLD.jsonl (an earlier version of
          eval/data/sample_questions.jsonl, e.g. `git show 10ec6b8:eval/data/sample_questions.jsonl`);
- `all`:  every sample `train` question;
- `all+rgb`: `all` plus RGB's true + noise passages (eval/rgb_training.py), RGB training the scorer only
  with its own domain weight (as `--rgb-set` trains);
- `all+rgb-ext`: the same, but RGB shares SQuAD's domain weight (one "general text" domain).

Every pool runs eval/train_answerer.py's cross-validation (5 folds grouped by article / SQuAD paragraph /
RGB question, the fold of each group fixed once for all pools; both stages and the threshold fitted
inside each fold by train_answerer.fit; each held-out question
run through refuse -> compose -> verify and scored as `rag eval` scores it). Figures are printed per
dataset and, for the sample `train` split, also on the OLD question ids alone, so pools with and
without the new questions are compared on the same questions. The sample `test` split is never read
into a pool (train_answerer.train's own filter).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

from eval import train_answerer as ta
from eval.adapters.sample_questions import read_questions
from eval.answerer_data import REPO, collect
from rag.answer.features import FeatureExtractor
from rag.cite.verify import CitationVerifier
from rag.embed.torch_encoder import TorchEncoder
from rag.settings import Settings

SHARED = REPO.parent / "shared" / "eval"


def fold_of_groups(cases: list) -> dict[str, int]:
    """CV group -> fold, fixed once over the largest pool, so every pool holds each group out in the same
    fold and pools differ only in what they train on (paired comparison)."""
    out: dict[str, int] = {}
    for k, (_, te) in enumerate(GroupKFold(n_splits=ta.FOLDS).split(np.zeros(len(cases)), groups=ta._groups(cases))):
        out.update({cases[i].group: k for i in te})
    return out


def oof_records(pool: list, folds: dict[str, int], extractor: FeatureExtractor, verifier: CitationVerifier,
                max_sentences: int) -> dict:
    """(dataset, qid) -> (record, top-1 candidate is a positive or None): train_answerer.cross_validate's loop
    over the fixed folds, keeping the per-question records."""
    out: dict = {}
    for k in range(ta.FOLDS):
        held = [c for c in pool if folds[c.group] == k]
        model = ta.fit([c for c in pool if folds[c.group] != k], "trees")
        for c in held:
            p = model.predict(c.candidates.x)
            top1 = bool(c.y[int(np.argmax(p))]) if len(p) and c.y.any() else None
            out[(c.dataset, c.question.qid)] = (ta.answer_case(c, model, extractor, verifier, max_sentences), top1)
    return out


def summarise(recs: dict, keep: set[str] | None = None) -> dict:
    by: dict = {}
    for (ds, qid), (rec, top1) in recs.items():
        if keep is not None and (ds != "sample-train" or qid not in keep):
            continue
        by.setdefault(ds, ([], []))[0].append(rec)
        if top1 is not None:
            by[ds][1].append(top1)
    return {ds: {**ta.figures(ds, r), "oof_top1_positive": round(float(np.mean(t)), 4) if t else None}
            for ds, (r, t) in sorted(by.items())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old-questions", type=Path, required=True, help="earlier sample_questions.jsonl (its train ids = `old`)")
    ap.add_argument("--seeds", type=Path, default=SHARED / "seeds_dev.jsonl")
    ap.add_argument("--squad", type=Path, default=SHARED / "squad2")
    ap.add_argument("--rgb", type=Path, default=SHARED / "rgb" / "en_fact.json")
    ap.add_argument("--pools", default="old,all,all+rgb", help="comma-separated: old, all, all+rgb, all+rgb-ext")
    ap.add_argument("--squad-limit", type=int, help="only the first N SQuAD questions (a quick check)")
    ap.add_argument("--out", type=Path, help="write the figures here as JSON")
    ap.add_argument("--records", type=Path, help="write every held-out question's outcome here (JSON lines)")
    args = ap.parse_args()
    for p in (args.old_questions, args.seeds, args.squad, args.rgb):
        if not p.exists():
            raise SystemExit(f"{p} not found (the evaluation files live in ../shared/eval beside the repository)")
    old_ids = {r["id"] for r in read_questions(args.old_questions) if r.get("split") == "train"}
    settings = Settings()
    embedder = TorchEncoder(settings.embedding_model, settings.device, settings.embed_batch_size)
    t = time.perf_counter()
    cases = collect(settings, embedder, args.seeds, args.squad, args.squad_limit, rgb_path=args.rgb)
    print(f"collected {len(cases)} cases in {time.perf_counter() - t:.0f} s")
    base = [c for c in cases if c.dataset != "sample-test" and not c.test_article]
    pools = {
        "old": [c for c in base if c.dataset != "rgb" and (c.dataset != "sample-train" or c.question.qid in old_ids)],
        "all": [c for c in base if c.dataset != "rgb"],
        "all+rgb": base,
        "all+rgb-ext": base,
    }
    own_domain = ta._domain
    folds = fold_of_groups(base)
    extractor, verifier = FeatureExtractor(embedder), CitationVerifier(embedder, settings.verify_min_similarity)
    result: dict = {}
    for name in args.pools.split(","):
        t = time.perf_counter()
        ta._domain = (lambda c: "squad2" if c.dataset in ("squad2", "rgb") else "sample") if name == "all+rgb-ext" \
            else own_domain  # the domain decides the row weights and which questions fit the refusal stage
        recs = oof_records(pools[name], folds, extractor, verifier, settings.max_answer_sentences)
        result[name] = {"trained_on": len(pools[name]), "per_dataset": summarise(recs),
                        "sample_train_old_ids": summarise(recs, old_ids).get("sample-train"),
                        "seconds": round(time.perf_counter() - t)}
        print(name, json.dumps(result[name], indent=1), flush=True)
        if args.records:
            with args.records.open("a", encoding="utf-8") as fh:
                for (ds, qid), (rec, top1) in sorted(recs.items()):
                    sc = rec["scores"]
                    fh.write(json.dumps({"pool": name, "dataset": ds, "qid": qid, "unanswerable": rec["unanswerable"],
                                         "refused": sc["refused"], "correct": sc.get("correct"), "top1_positive": top1,
                                         "answer": rec["answer"]}, ensure_ascii=False) + "\n")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
