"""`rag eval`: index a dataset's corpus with the product, ask every question, score, write a results folder.

One run = one configuration (models, k, fusion weights, thresholds, answer mode), recorded in full
in metrics.json so two runs can be compared (eval/compare.py). The product's real components do
all the work: index_paths builds the collection, HybridRetriever / Assistant answer.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from eval.adapters import DatasetError, EvalQuestion, EvalSet, load_beir, load_rgb, load_seeds, load_squad2
from eval.adapters.beir import DEFAULT_BEIR_SPLIT
from eval.corpus import PreparedCorpus, prepare_corpus_file, prepare_rgb, safe_name
from eval.report import results_folder, write_run
from eval.scoring import RETRIEVED_SHOWN, aggregate, score_answer, score_retrieval
from rag.embed.factory import make_encoder
from rag.embed.protocols import DocumentEncoder
from rag.models import Answer, AnswerMode, AskRequest
from rag.pipeline.indexer import index_paths
from rag.retrieve.hybrid import HybridRetriever
from rag.settings import DEFAULT_MODEL, Settings
from rag.store.collection import Collection

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("seeds", "beir", "squad2", "rgb")
DEFAULT_SPLIT = {"seeds": "dev", "beir": DEFAULT_BEIR_SPLIT, "squad2": "dev", "rgb": "en_fact"}
# Each dataset's file or folder under Settings.eval_data_dir (RAG_EVAL_DATA_DIR), read when --path is not given.
DATA_FILES = {"seeds": "seeds_dev.jsonl", "beir": "scifact", "squad2": "squad2", "rgb": "rgb/en_fact.json"}
MODES = tuple(m.value for m in AnswerMode)  # auto, extractive, read, llm, hybrid
SECRET_SETTINGS = {"llm_api_key", "api_keys"}


@dataclass(frozen=True)
class EvalOptions:
    dataset: str
    path: Path | None = None  # None = the dataset's DATA_FILES entry under settings.eval_data_dir
    split: str | None = None
    output: Path = Path("eval/results")
    limit: int | None = None  # first N questions (the corpus stays whole: retrieval needs its distractors)
    mode: str | None = None  # answer mode; None = settings.answer_mode
    retrieval_only: bool | None = None  # None = the dataset's default (BEIR: retrieval only)
    config_name: str | None = None
    corpus: Path | None = None  # seeds: the documents the questions are about (default data/sample)
    corpus_limit: int | None = None  # BEIR: index only the first N documents (smoke tests)
    depth: int = 100  # chunks retrieved per question for the retrieval metrics (collapsed to documents)
    rgb_passages: tuple[str, ...] = ("positive_wrong", "negative")
    progress: bool = True


@dataclass
class EvalRun:
    folder: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)


# ------------------------------------------------------------------ options and data


def check_options(opts: EvalOptions, settings: Settings) -> None:
    """Bad combinations fail before any model loads, with what to do instead."""
    if opts.dataset not in DATASETS:
        raise DatasetError(f"unknown dataset {opts.dataset!r}: use one of {', '.join(DATASETS)}")
    if opts.mode is not None and opts.mode not in MODES:
        raise DatasetError(f"unknown answer mode {opts.mode!r}: use one of {', '.join(MODES)}")
    if opts.limit is not None and opts.limit < 1:
        raise DatasetError(f"--limit must be at least 1, got {opts.limit}")
    if opts.depth < 20:
        raise DatasetError("--depth must be at least 20 (recall@20 needs twenty documents)")
    if settings.dense_weight == 0 and settings.bm25_weight == 0:
        raise DatasetError("dense and BM25 weights are both 0: nothing would be retrieved; set one above 0")
    if opts.corpus_limit is not None and opts.dataset != "beir":
        raise DatasetError("--corpus-limit applies to BEIR datasets only")
    if opts.dataset == "rgb" and retrieval_only(opts):
        raise DatasetError("RGB scores answers (does the answer repeat the planted fake?): drop --retrieval-only")


def eval_data_path(settings: Settings, name: str, option: str) -> Path:
    """`name` under the evaluation-data folder. It is a setting because its default (../shared/eval, the data
    beside this repository's development checkout) does not exist in a user's clone; a missing path says so."""
    path = settings.eval_data_dir / name
    if not path.exists():
        raise DatasetError(f"{path} not found: set RAG_EVAL_DATA_DIR to the folder holding the evaluation sets "
                           f"(now {settings.eval_data_dir}; it holds {', '.join(DATA_FILES.values())}), or pass {option}")
    return path


def with_dataset_path(opts: EvalOptions, settings: Settings) -> EvalOptions:
    """The options with --path filled in from the evaluation-data folder when it was not given."""
    if opts.path is not None:
        return opts
    return replace(opts, path=eval_data_path(settings, DATA_FILES[opts.dataset], "--path"))


def retrieval_only(opts: EvalOptions) -> bool:
    return opts.retrieval_only if opts.retrieval_only is not None else opts.dataset == "beir"


def split_of(opts: EvalOptions) -> str:
    return opts.split or DEFAULT_SPLIT[opts.dataset]


def load_dataset(opts: EvalOptions) -> tuple[EvalSet, dict[str, EvalSet]]:
    """The EvalSet, plus for RGB one EvalSet per passage kind (each carries that kind's passages)."""
    split, path = split_of(opts), opts.path
    if path is None:  # run_evaluation fills it in from the evaluation-data folder (with_dataset_path)
        raise DatasetError(f"no path for dataset {opts.dataset!r}: pass --path or set RAG_EVAL_DATA_DIR")
    if opts.dataset == "seeds":
        return load_seeds(path, split), {}
    if opts.dataset == "beir":
        return load_beir(path, split, corpus_limit=opts.corpus_limit), {}
    if opts.dataset == "squad2":
        return load_squad2(path, split), {}
    kinds = {k: load_rgb(path, split, passages=k) for k in opts.rgb_passages}  # type: ignore[arg-type]
    return kinds[opts.rgb_passages[0]], kinds


def collection_name(opts: EvalOptions, evalset: EvalSet, model: str = DEFAULT_MODEL) -> str:
    """index/eval-<dataset>-<split>[-<corpus name>][-c<limit>][-m<model>]: one collection per corpus, reused across runs.

    The corpus name is part of it because indexing a different corpus into the same collection
    would add to it, not replace it (the indexer only removes documents of files it is given).
    BEIR leaves the split out: every split (and split file) shares the one corpus, so the tuning
    and report parts of SciFact reuse one index. Another embedding model than the packaged one
    (e.g. one from `rag eval train-encoder`) gets its own collection, named after its folder, so
    comparing models never meets the manifest's refusal to mix vectors.
    """
    suffix = "" if model == DEFAULT_MODEL else f"-m{Path(model).name or model}"
    if opts.dataset == "beir":
        return safe_name(f"eval-beir-{evalset.name}" + (f"-c{opts.corpus_limit}" if opts.corpus_limit else "") + suffix)
    if opts.dataset == "seeds" and opts.corpus is not None and opts.corpus.resolve() != (REPO / "data" / "sample"):
        # Another corpus is shared by every split of its questions, as BEIR's is: the train and test questions
        # over the 11,576 Chinese articles read one index. A file is named with its folder (crud-news-zh-docs.txt.xz).
        corpus = opts.corpus.resolve()
        label = f"{corpus.parent.name}-{corpus.name}" if corpus.is_file() else corpus.name
        return safe_name(f"eval-seeds-{label}{suffix}")
    return safe_name(f"eval-{opts.dataset}-{split_of(opts)}{suffix}")


def prepare(opts: EvalOptions, evalset: EvalSet, kinds: dict[str, EvalSet], questions: tuple[EvalQuestion, ...],
            settings: Settings) -> PreparedCorpus:
    name = collection_name(opts, evalset, settings.embedding_model)
    cache = settings.index_dir / "eval-corpora"
    if opts.dataset == "seeds":
        corpus = (opts.corpus or REPO / "data" / "sample").resolve()
        if not corpus.exists():
            raise DatasetError(f"seed corpus {corpus} not found: pass --corpus with the documents the questions are about "
                               "(a folder, or one file such as a .txt.xz of one article a line)")
        return PreparedCorpus([corpus], name)
    if opts.dataset == "rgb":
        return prepare_rgb(kinds, questions, cache, name)
    return prepare_corpus_file(evalset, cache, name)


def default_config_name(opts: EvalOptions, settings: Settings) -> str:
    fusion = "bm25" if settings.dense_weight == 0 else "dense" if settings.bm25_weight == 0 else "fused"
    return f"{fusion}-{'retrieval' if retrieval_only(opts) else (opts.mode or settings.answer_mode)}"


def _git() -> dict[str, str]:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True, timeout=10)
        return {"commit": head.stdout.strip(), "dirty": str(bool(dirty.stdout.strip())).lower()}
    except (OSError, subprocess.SubprocessError):
        return {}


def run_config(opts: EvalOptions, settings: Settings, manifest: Any, n_questions: int) -> dict[str, Any]:
    """Everything that decides the figures: dataset slice, settings (secrets left out), index, code, machine."""
    import torch  # noqa: PLC0415 - seconds to import; loaded already when the embedder is torch's

    return {
        "dataset": opts.dataset,
        "path": str(opts.path),
        "split": split_of(opts),
        "limit": opts.limit,
        "questions": n_questions,
        "corpus_limit": opts.corpus_limit,
        "retrieval_only": retrieval_only(opts),
        "answer_mode": None if retrieval_only(opts) else (opts.mode or settings.answer_mode),
        "depth": opts.depth,
        "rgb_passages": list(opts.rgb_passages) if opts.dataset == "rgb" else None,
        "settings": settings.model_dump(mode="json", exclude=SECRET_SETTINGS),
        "index": manifest.model_dump(mode="json") if manifest is not None else None,
        "git": _git(),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads()},
    }


# ------------------------------------------------------------------ the run


def _progress(console: Console, enabled: bool) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console, disable=not enabled)


def _check_sources(snapshot: Any, prepared: PreparedCorpus, collection_dir: Path) -> None:
    roots = [os.path.abspath(p) for p in prepared.paths]  # sources are stored as absolute paths
    foreign = [d.source for d in snapshot.documents() if not any(d.source.startswith(r) for r in roots)]
    if foreign:
        raise DatasetError(
            f"collection {collection_dir} also holds {len(foreign)} document(s) from other files "
            f"(e.g. {foreign[0]}): scores would be wrong. Delete that folder or pass another --index-dir."
        )


def _answer_record(ans: Answer) -> dict[str, Any]:
    return {
        "answer": ans.answer,
        "refused": ans.refused,
        "mode": ans.mode,
        "route": ans.diagnostics.route,  # read mode: refuse / extractive / reader
        "reader_answer": ans.diagnostics.reader_answer,
        "support": ans.diagnostics.support,  # the scorer's answerability: read-mode cut-offs are learned from it
        "citations": [c.model_dump(include={"n", "quote", "source", "doc_id", "start", "end", "verified",
                                            "similarity"}) for c in ans.citations],
        "notes": ans.notes,
    }


def run_evaluation(opts: EvalOptions, settings: Settings, embedder: DocumentEncoder | None = None,
                   console: Console | None = None) -> EvalRun:
    """Index, ask, score and write `<output>/<timestamp>-<dataset>-<config>/`; return the run."""
    # matplotlib (~0.5 s) only when a run is written: train-encoder and the benchmarks import this module too
    from eval.plots import write_plots  # noqa: PLC0415

    console = console or Console(stderr=True)
    check_options(opts, settings)
    opts = with_dataset_path(opts, settings)
    evalset, kinds = load_dataset(opts)
    questions = evalset.questions[: opts.limit] if opts.limit else evalset.questions
    prepared = prepare(opts, evalset, kinds, questions, settings)
    settings = settings.model_copy(update={"collection": prepared.collection})
    if retrieval_only(opts) and opts.dataset == "beir" and settings.sentence_weight == 0:
        # Sentence vectors serve answers only; a retrieval-only BEIR run would embed every sentence for nothing
        # (SciFact: ~4x the chunk count) unless the sentence list ranks with them (sentence_weight > 0).
        # An existing collection keeps what its manifest says.
        settings = settings.model_copy(update={"sentence_vectors": False})
    if opts.mode is not None:
        settings = settings.model_copy(update={"answer_mode": opts.mode})
    # A set tagged by language (issue 32) runs as `rag index` + `rag ask` do: the indexer picks the encoder for a
    # new collection from its documents (a multilingual one for mostly Han text) and questions use the one its
    # manifest records. Other sets keep the one document encoder for everything, so their figures do not move.
    product_encoder = embedder is None and any(q.lang for q in questions)
    if embedder is None and not product_encoder:
        embedder = make_encoder(settings, "document")

    existing = Collection(settings.collection_dir)
    try:
        if existing.exists():  # refuse before indexing: a refused run leaves the collection as it found it
            with existing.open_snapshot() as before:
                _check_sources(before, prepared, settings.collection_dir)
    finally:
        existing.close()
    console.print(f"Indexing {opts.dataset} corpus into {settings.collection_dir}", highlight=False)
    report = index_paths(prepared.paths, settings, progress=opts.progress, embedder=embedder)
    index_info = {k: getattr(report, k) for k in ("documents_added", "documents_removed", "documents_unchanged",
                                                  "chunks_added", "chunks_embedded", "chunks_from_cache")}
    index_info["seconds"] = report.seconds
    index_info["problems"] = [f"{p.source}: {p.message}" for p in report.problems]

    only_retrieval = retrieval_only(opts)
    assistant = None
    if only_retrieval:
        snapshot = Collection(settings.collection_dir).open_snapshot()
        if embedder is None:
            embedder = make_encoder(settings, "query", snapshot.manifest)
        if settings.sentence_vector_mode != "off":  # the sentence list (sentence_weight > 0) embeds on first use
            snapshot.use_lazy_sentences(embedder)
        retriever = HybridRetriever(snapshot, embedder, settings)
    else:
        from rag.service.assistant import Assistant  # noqa: PLC0415 - needs the answering modes

        assistant = Assistant(settings, embedder=embedder)
        snapshot = assistant.snapshot
        retriever = assistant.retriever()
    run_notes = list(prepared.notes)
    if settings.sentence_weight > 0 and not snapshot.has_sentence_vectors:
        # A reused retrieval-only collection: say so, or the figures would silently be the two-list ones.
        run_notes.append(f"RAG_SENTENCE_WEIGHT={settings.sentence_weight:g} had no effect: {settings.collection_dir} "
                         "stores no sentence vectors; delete that folder and run again to build them")
        console.print(f"[yellow]{run_notes[-1]}[/]", highlight=False)
    try:
        records = _ask_all(opts, questions, prepared, retriever, assistant, console)
    finally:
        (assistant.close() if assistant else snapshot.close())

    config = run_config(opts, settings, report.manifest, len(questions))
    metrics = aggregate(opts.dataset, records)
    metrics["index"] = index_info
    metrics["errors"] = sum(1 for r in records if "error" in r)
    if run_notes:
        metrics["notes"] = run_notes
    folder = results_folder(opts.output, opts.dataset, opts.config_name or default_config_name(opts, settings))
    write_run(folder, config, metrics, records)
    write_plots(folder, metrics, records)
    return EvalRun(folder, config, metrics, records)


def _ask_all(opts: EvalOptions, questions: tuple[EvalQuestion, ...], prepared: PreparedCorpus, retriever: Any,
             assistant: Any, console: Console) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    with _progress(console, opts.progress) as bar:
        task = bar.add_task(f"{opts.dataset}: questions", total=len(questions))
        for q in questions:
            records.append(_one(opts, q, prepared, retriever, assistant))
            bar.advance(task)
    return records


def _one(opts: EvalOptions, q: EvalQuestion, prepared: PreparedCorpus, retriever: Any, assistant: Any) -> dict[str, Any]:
    filters = prepared.filters_of.get(q.qid)
    rec: dict[str, Any] = {"qid": q.qid, "question": q.text, "kind": q.kind, "unanswerable": q.is_unanswerable,
                           "gold_answers": list(q.answers)}
    if q.lang:
        rec["lang"] = q.lang
    if q.fake_answers:
        rec["fake_answers"] = list(q.fake_answers)
    try:
        t0 = time.perf_counter()
        # With answers, search as the product does (Assistant.search: an English question over a Chinese
        # collection is searched in Chinese when an endpoint is configured); the same search otherwise.
        result = (assistant.search if assistant is not None else retriever.search)(q.text, opts.depth, filters)
        search_ms = (time.perf_counter() - t0) * 1000
        # A list with weight 0 still lends its candidates a fused score of 0: they are not "retrieved".
        hits = [h for h in result.hits if (h.fused_score or 0) > 0]
        retrieved, rec["retrieval"] = score_retrieval(opts.dataset, q, hits, prepared.ids_of)
        rec["retrieved"] = retrieved[:RETRIEVED_SHOWN]
        if assistant is None:
            rec["timings_ms"] = {"search": search_ms, **{f"search.{k}": v for k, v in result.timings_ms.items()}}
            return rec
        ans = assistant.ask(AskRequest(question=q.text, filters=filters, mode=AnswerMode(opts.mode) if opts.mode else None))
        rec.update(_answer_record(ans))
        rec["scores"] = score_answer(opts.dataset, q, ans, {h.passage.chunk_id: h.passage.text for h in hits})
        timings = dict(ans.timings_ms)
        if "answer" not in timings and {"total", "retrieve"} <= timings.keys():
            timings["answer"] = timings["total"] - timings["retrieve"]  # answering + citing, after retrieval
        rec["timings_ms"] = timings
    except Exception as e:  # one broken question must not lose a long run; it is counted and shown
        rec["error"] = f"{type(e).__name__}: {e}"
        rec["scores"] = None
    return rec


def index_beir_corpus(opts: EvalOptions, settings: Settings, embedder: DocumentEncoder,
                      console: Console | None = None) -> Settings:
    """Build (or reuse) the collection `run_evaluation` would use for a BEIR set; its settings are returned.

    `rag eval train-encoder` mines its training examples from this collection, so what it trains
    on is exactly what `rag eval --dataset beir` retrieves from.
    """
    check_options(opts, settings)
    if opts.dataset != "beir":
        raise DatasetError(f"index_beir_corpus takes a BEIR dataset, got {opts.dataset!r}")
    opts = with_dataset_path(opts, settings)
    evalset, kinds = load_dataset(opts)
    prepared = prepare(opts, evalset, kinds, evalset.questions, settings)
    settings = settings.model_copy(update={"collection": prepared.collection, "sentence_vectors": False})
    (console or Console(stderr=True)).print(f"Indexing beir corpus into {settings.collection_dir}", highlight=False)
    index_paths(prepared.paths, settings, progress=opts.progress, embedder=embedder)
    return settings
