"""`rag eval --dataset ... [--path ...]` runs an evaluation; `rag eval compare RUN_A RUN_B` diffs two runs.

Without --path a dataset is read from its usual place under RAG_EVAL_DATA_DIR (Settings.eval_data_dir;
a missing file is an error that names the path and the setting), as are train-answerer's sets.

`eval` is a typer group whose callback runs the evaluation when no sub-command is given, so both
forms the issue names work. No `from __future__ import annotations`: typer evaluates the option
annotations at registration time (as in serve.py).
"""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.cli.common import IndexDirOpt, err, fail, make_settings, out


def register(app: typer.Typer) -> None:
    eval_app = typer.Typer(help="Evaluate the pipeline on a dataset, or compare two evaluation runs.",
                           invoke_without_command=True, no_args_is_help=False)

    @eval_app.callback()
    def evaluate(
        ctx: typer.Context,
        dataset: Annotated[Optional[str], typer.Option(help="seeds | beir | squad2 | rgb")] = None,
        path: Annotated[Optional[Path], typer.Option(
            help="Dataset file or folder (default: the dataset's under RAG_EVAL_DATA_DIR: seeds_dev.jsonl, scifact, "
                 "squad2, rgb/en_fact.json)")] = None,
        split: Annotated[Optional[str], typer.Option(
            help="Split (seeds: dev, beir: train, squad2: dev, rgb: en_fact); beir also takes a file of query ids, "
                 "e.g. eval/data/scifact_report.txt")] = None,
        output: Annotated[Path, typer.Option(help="Folder that receives the results folder")] = Path("eval/results"),
        limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N questions")] = None,
        mode: Annotated[Optional[str], typer.Option(help="Answer mode: auto | extractive | read | llm | hybrid")] = None,
        retrieval_only: Annotated[Optional[bool], typer.Option(
            "--retrieval-only/--answers", help="Score retrieval only (default for beir) or answers too")] = None,
        config: Annotated[Optional[str], typer.Option("--config", help="Name of this configuration (folder name)")] = None,
        dense_weight: Annotated[Optional[float], typer.Option(min=0, help="Dense weight in fusion (0 = BM25 alone)")] = None,
        bm25_weight: Annotated[Optional[float], typer.Option(min=0, help="BM25 weight in fusion (0 = dense alone)")] = None,
        k: Annotated[Optional[int], typer.Option("--k", min=1, max=100, help="Passages given to the answerer")] = None,
        depth: Annotated[int, typer.Option(min=20, help="Chunks retrieved per question for retrieval metrics")] = 100,
        corpus: Annotated[Optional[Path], typer.Option(
            help="seeds: the documents the questions are about, a folder or one file such as "
                 "../shared/corpus/crud-news-zh/docs.txt.xz (default data/sample)")] = None,
        corpus_limit: Annotated[Optional[int], typer.Option(min=1, help="beir: index only the first N documents")] = None,
        index_dir: IndexDirOpt = None,
        progress: Annotated[bool, typer.Option(help="Show progress bars")] = True,
    ) -> None:
        """Index a dataset's corpus (cached under the index folder), ask every question, write a results folder."""
        if ctx.invoked_subcommand is not None:
            return
        if dataset is None:
            err.print(ctx.get_help())
            fail("Give --dataset (e.g. rag eval --dataset seeds; --path, or RAG_EVAL_DATA_DIR, says where its file "
                 "is), or `rag eval compare RUN_A RUN_B`.", code=2)
        from eval.adapters import DatasetError  # noqa: PLC0415 - heavy imports only when evaluating
        from eval.runner import EvalOptions, run_evaluation  # noqa: PLC0415
        from rag.store.collection import CollectionNotFound  # noqa: PLC0415
        from rag.store.manifest import IncompatibleIndex  # noqa: PLC0415

        settings = make_settings(None, index_dir, dense_weight=dense_weight, bm25_weight=bm25_weight, k=k)
        opts = EvalOptions(dataset=dataset, path=path, split=split, output=output, limit=limit, mode=mode,
                           retrieval_only=retrieval_only, config_name=config, corpus=corpus,
                           corpus_limit=corpus_limit, depth=depth, progress=progress)
        try:
            run = run_evaluation(opts, settings)
        except (DatasetError, IncompatibleIndex, CollectionNotFound, FileNotFoundError) as e:
            fail(str(e))
        _print_summary(run.folder, run.metrics, out)

    @eval_app.command()
    def compare(
        run_a: Annotated[Path, typer.Argument(help="Results folder of the baseline run")],
        run_b: Annotated[Path, typer.Argument(help="Results folder of the run to compare")],
        all_rows: Annotated[bool, typer.Option("--all", help="Also list metrics that did not change")] = False,
    ) -> None:
        """Print a table of metric differences (B - A) and the configuration keys that differ."""
        from rich.table import Table  # noqa: PLC0415

        from eval.compare import compare_runs  # noqa: PLC0415
        from eval.report import fmt  # noqa: PLC0415

        try:
            diffs, configs = compare_runs(run_a, run_b)
        except (FileNotFoundError, ValueError) as e:
            fail(str(e))
        table = Table(title=f"{run_a.name} (A) vs {run_b.name} (B)")
        for col in ("metric", "A", "B", "B - A", "better"):
            table.add_column(col, justify="left" if col == "metric" else "right")
        for d in diffs:
            # mean/max latency and unchanged rows are noise in the default view
            if all_rows or (d.delta != 0 and not d.name.endswith(("mean_ms", "max_ms"))):
                table.add_row(d.name, fmt(d.a), fmt(d.b), fmt(d.delta), d.better.upper())
        out.print(table)
        if configs:
            ct = Table(title="Configuration differences")
            for col in ("setting", "A", "B"):
                ct.add_column(col)
            for key, va, vb in configs:
                ct.add_row(key, fmt(va), fmt(vb))
            out.print(ct)

    @eval_app.command("train-encoder")
    def train_encoder(
        path: Annotated[Path, typer.Option(help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv")],
        split: Annotated[str, typer.Option(
            help="The queries to train on: a qrels split name or a file of query ids (keep your report queries out)")],
        output: Annotated[Path, typer.Option(help="New folder for the trained model (use it as RAG_EMBEDDING_MODEL)")],
        epochs: Annotated[int, typer.Option(help="Passes over the examples (ignored with --select)")] = 1,
        learning_rate: Annotated[float, typer.Option("--lr", help="AdamW learning rate")] = 2e-5,
        hard_negatives: Annotated[int, typer.Option(help="Mined negatives per example (0 = in-batch only)")] = 1,
        batch_size: Annotated[int, typer.Option(help="Examples per batch (the in-batch negatives)")] = 32,
        select: Annotated[bool, typer.Option(
            "--select/--no-select", help="Choose epochs, rate and negatives among --select-* by a grouped hold-out "
                                         "of the split (queries sharing a relevant document stay together)")] = False,
        select_epochs: Annotated[str, typer.Option(help="Epoch counts tried with --select")] = "1,2,3",
        select_lr: Annotated[str, typer.Option(help="Learning rates tried with --select")] = "2e-5",
        select_negatives: Annotated[str, typer.Option(help="Hard-negative counts tried with --select")] = "1",
        index_dir: IndexDirOpt = None,
    ) -> None:
        """Fine-tune the embedding model on your labelled queries (MultipleNegativesRankingLoss, mined hard
        negatives); writes a sentence-transformers folder to use as RAG_EMBEDDING_MODEL for a new collection."""
        from eval.adapters import DatasetError  # noqa: PLC0415
        from eval.encoder_training import EncoderTrainConfig  # noqa: PLC0415
        from eval.train_encoder import TrainRequest, check_output, grid, train_command  # noqa: PLC0415

        settings = make_settings(None, index_dir)
        try:
            cfg = EncoderTrainConfig(epochs=epochs, learning_rate=learning_rate, hard_negatives=hard_negatives,
                                     batch_size=batch_size)
            cfg.validate()
            trials = grid(_numbers(select_epochs, int, "--select-epochs"), _numbers(select_lr, float, "--select-lr"),
                          _numbers(select_negatives, int, "--select-negatives"), cfg) if select else ()
            check_output(output)
        except ValueError as e:
            fail(str(e), code=2)
        if not path.is_dir():
            fail(f"--path {path} is not a folder: give a BEIR folder (corpus.jsonl, queries.jsonl, qrels/)", code=2)
        try:
            info = train_command(TrainRequest(path, split, output, cfg, trials), settings, log=err.print)
        except (DatasetError, ValueError, FileNotFoundError) as e:
            fail(str(e))
        out.print(f"wrote {output} ({info['examples']} examples from {info['queries']} queries, "
                  f"{info['train_seconds']} s); use it with RAG_EMBEDDING_MODEL={output} and a new collection")

    @eval_app.command("train-answerer")
    def train_answerer(
        seeds: Annotated[Optional[Path], typer.Option(
            help="seeds_dev.jsonl (questions over the sample; default: under RAG_EVAL_DATA_DIR)")] = None,
        squad: Annotated[Optional[Path], typer.Option(
            help="SQuAD 2.0 folder (contexts.jsonl, questions_dev.jsonl; default: squad2 under RAG_EVAL_DATA_DIR)")] = None,
        model_kind: Annotated[str, typer.Option("--model", help="trees | logistic")] = "trees",
        output: Annotated[Optional[Path], typer.Option(help="Model file to write (default: the shipped one)")] = None,
        squad_limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N SQuAD questions")] = None,
        questions: Annotated[Optional[Path], typer.Option(
            help="Your labelled questions (JSONL: id, question, answers, evidence, split train|test by document); "
                 "default eval/data/sample_questions.jsonl")] = None,
        corpus: Annotated[Optional[Path], typer.Option(help="The documents those questions are about (default data/sample)")] = None,
        use_seeds: Annotated[bool, typer.Option("--seeds-set/--no-seeds-set",
                                                help="Add seeds_dev (questions over the bundled sample)")] = True,
        use_squad: Annotated[bool, typer.Option("--squad-set/--no-squad-set", help="Add SQuAD 2.0 dev")] = True,
        rgb: Annotated[Optional[Path], typer.Option(
            help="RGB en_fact.json (news questions with true and noise passages; default: rgb/en_fact.json under "
                 "RAG_EVAL_DATA_DIR)")] = None,
        use_rgb: Annotated[bool, typer.Option("--rgb-set/--no-rgb-set",
                                              help="Add RGB's true + noise passages as training questions "
                                                   "(eval/rgb_training.py; scorer only)")] = False,
        index_dir: IndexDirOpt = None,
    ) -> None:
        """Fit the evidence model + refusal threshold on eval/data/sample_questions.jsonl (train split),
        seeds_dev and SQuAD 2.0 dev, cross-validated by article; print out-of-fold figures; write the model."""
        from eval.answerer_data import collect, summary  # noqa: PLC0415 - scikit-learn only for training
        from eval.train_answerer import train  # noqa: PLC0415
        from rag.answer.evidence_model import MODEL_FILE  # noqa: PLC0415
        from rag.answer.features import FeatureExtractor  # noqa: PLC0415
        from rag.cite.verify import CitationVerifier  # noqa: PLC0415
        from rag.embed.torch_encoder import TorchEncoder as Embedder  # noqa: PLC0415

        from eval.adapters.sample_questions import QUESTIONS  # noqa: PLC0415
        from eval.answerer_data import SAMPLE  # noqa: PLC0415
        from eval.train_answerer import TABLE  # noqa: PLC0415
        from eval.adapters import DatasetError  # noqa: PLC0415
        from eval.runner import DATA_FILES, eval_data_path  # noqa: PLC0415

        if model_kind not in ("trees", "logistic"):
            fail(f"--model {model_kind!r}: use trees or logistic", code=2)
        settings = make_settings(None, index_dir)
        try:  # a set left out is never looked for; a default one must exist under RAG_EVAL_DATA_DIR
            seeds_path = (seeds or eval_data_path(settings, DATA_FILES["seeds"], "--seeds, or --no-seeds-set")
                          if use_seeds else None)
            squad_path = (squad or eval_data_path(settings, DATA_FILES["squad2"], "--squad, or --no-squad-set")
                          if use_squad else None)
            rgb_path = (rgb or eval_data_path(settings, DATA_FILES["rgb"], "--rgb")) if use_rgb else None
        except DatasetError as e:
            fail(str(e))
        for p in [x for x in (seeds_path, squad_path, rgb_path) if x is not None]:
            if not p.exists():
                fail(f"{p} not found: pass --seeds/--squad/--rgb with the evaluation files, "
                     "or leave them out with --no-seeds-set/--no-squad-set/--no-rgb-set")
        for p, what in ((questions, "--questions file"), (corpus, "--corpus folder")):
            if p is not None and not p.exists():
                fail(f"{what} {p} not found")
        embedder = Embedder(settings.embedding_model, settings.device, settings.embed_batch_size)
        out.print("collecting candidates (index, retrieve, featurize)", highlight=False)
        try:
            cases = collect(settings, embedder, seeds_path, squad_path, squad_limit,
                            log=lambda m: out.print(m, highlight=False), questions=questions or QUESTIONS,
                            corpus=corpus or SAMPLE, rgb_path=rgb_path)
        except (ValueError, FileNotFoundError) as e:
            fail(str(e))
        out.print(summary(cases), highlight=False)
        verifier = CitationVerifier(embedder, settings.verify_min_similarity)
        target = output or MODEL_FILE
        # the training table (features + labels) sits beside the model it trained: the shipped one in eval/data
        table = TABLE if output is None else target.with_suffix(".features.npz")
        model = train(cases, model_kind, FeatureExtractor(embedder), verifier, settings.max_answer_sentences,
                      log=lambda m: out.print(m, highlight=False), table=table)
        model.save(target)
        out.print(json.dumps(model.cv, indent=1), highlight=False)
        out.print(f"wrote {target} (threshold {model.threshold:.2f})", highlight=False)

    @eval_app.command("train-reader")
    def train_reader(
        seeds: Annotated[Optional[Path], typer.Option(
            help="seeds_dev.jsonl (questions over the sample; default: under RAG_EVAL_DATA_DIR)")] = None,
        squad: Annotated[Optional[Path], typer.Option(
            help="SQuAD 2.0 folder: fits each fold's evidence model, as train-answerer does (default: under "
                 "RAG_EVAL_DATA_DIR)")] = None,
        output: Annotated[Optional[Path], typer.Option(help="Cut-offs file to write (default: the shipped one)")] = None,
        index_dir: IndexDirOpt = None,
    ) -> None:
        """Learn the read mode's cut-offs out of fold on sample `train` + seeds_dev with the real reader (set
        OPENAI_BASE_URL to it, e.g. the local llama.cpp server); print the figures; write the cut-offs."""
        from eval.answerer_data import SAMPLE, collect, summary  # noqa: PLC0415 - scikit-learn only for training
        from eval.adapters.sample_questions import QUESTIONS, TRAIN_SPLITS  # noqa: PLC0415
        from eval.train_reader import OUTCOMES, CachedReader, choose, outcomes, save_outcomes  # noqa: PLC0415
        from rag.answer.features import FeatureExtractor  # noqa: PLC0415
        from rag.answer.llm import LLMAnswerer  # noqa: PLC0415
        from rag.answer.reader import CUTOFFS_FILE  # noqa: PLC0415
        from rag.cite.verify import CitationVerifier  # noqa: PLC0415
        from rag.embed.torch_encoder import TorchEncoder as Embedder  # noqa: PLC0415

        from eval.runner import DATA_FILES, DatasetError, eval_data_path  # noqa: PLC0415

        settings = make_settings(None, index_dir)
        try:
            seeds = seeds or eval_data_path(settings, DATA_FILES["seeds"], "--seeds")
            squad = squad or eval_data_path(settings, DATA_FILES["squad2"], "--squad")
        except DatasetError as e:
            fail(str(e))
        for p in (seeds, squad):
            if not p.exists():
                fail(f"{p} not found: pass --seeds/--squad, or set RAG_EVAL_DATA_DIR to the evaluation files")
        if not settings.llm_base_url:
            fail("train-reader asks the real reader: set OPENAI_BASE_URL to its endpoint (the local model: "
                 "`rag serve --local-llm` starts it; or any OpenAI-compatible server)", code=2)
        embedder = Embedder(settings.embedding_model, settings.device, settings.embed_batch_size)
        verifier = CitationVerifier(embedder, settings.verify_min_similarity)
        cases = collect(settings, embedder, seeds, squad, log=lambda m: out.print(m, highlight=False),
                        questions=QUESTIONS, corpus=SAMPLE, splits=TRAIN_SPLITS)
        pool = [c for c in cases if c.dataset != "sample-test" and not c.test_article]
        out.print(summary(pool), highlight=False)
        reader = CachedReader(LLMAnswerer(settings, verifier).client, settings, 0.0)
        outs = outcomes(pool, "trees", FeatureExtractor(embedder), verifier, settings.max_answer_sentences, reader,
                        log=lambda m: out.print(m, highlight=False))
        save_outcomes(outs, OUTCOMES)
        cut = choose(outs)
        target = output or CUTOFFS_FILE
        cut.save(target)
        out.print(json.dumps(cut.trained, indent=1), highlight=False)
        out.print(f"wrote {target}: refuse below {cut.refuse_below:.2f}; the reader decides below "
                  f"{cut.check_from:.2f} and checks the extractive answer below {cut.extractive_above:.2f}; its "
                  f"sentence scores at least {cut.min_sentence_prob:.2f}", highlight=False)

    app.add_typer(eval_app, name="eval")


def _print_summary(folder: Path, metrics: dict, out: object) -> None:
    from eval.report import fmt  # noqa: PLC0415

    lines = [f"Results: {folder}"]
    r = metrics.get("retrieval") or {}
    keys = [k for k in ("hit@5", "recall@10", "mrr@10", "ndcg@10") if k in r]
    if keys:
        lines.append("retrieval  " + "  ".join(f"{k} {fmt(r[k])}" for k in keys))
    a = metrics.get("answer") or {}
    keys = [k for k in ("accuracy", "false_refusals", "unanswerable_refused", "f1_answerable", "fake_rate",
                        "refusal_rate", "citation_precision", "citation_recall", "median_answer_words",
                        "reader_share") if a.get(k) is not None]
    if keys:
        lines.append("answers    " + "  ".join(f"{k} {fmt(a[k])}" for k in keys))
    total = metrics.get("latency_ms", {}).get("total") or metrics.get("latency_ms", {}).get("search")
    if total:
        lines.append(f"latency    p50 {total['p50_ms']:.0f} ms  p95 {total['p95_ms']:.0f} ms")
    if metrics.get("errors"):
        lines.append(f"{metrics['errors']} question(s) failed: see questions.jsonl")
    for lang, m in (metrics.get("by_lang") or {}).items():  # a set mixing languages (issue 32): each on its own
        r, a = m.get("retrieval") or {}, m.get("answer") or {}
        figures = [(k, r.get(k)) for k in ("answer_hit@5", "hit@5")] + [
            (k, a.get(k)) for k in ("accuracy", "false_refusals", "unanswerable_refused", "citation_precision")]
        lines.append(f"{lang:<10} questions {m['questions']}  "
                     + "  ".join(f"{k} {fmt(v)}" for k, v in figures if v is not None))
    for line in lines:
        out.print(line, highlight=False)  # type: ignore[attr-defined]


def _numbers(text: str, kind: type, option: str) -> tuple:
    """'1,2,3' -> (1, 2, 3); a clear error for anything else."""
    try:
        values = tuple(kind(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"{option} {text!r}: give comma-separated numbers, e.g. 1,2,3") from None
    if not values:
        raise ValueError(f"{option} is empty: give comma-separated numbers, e.g. 1,2,3")
    return values
