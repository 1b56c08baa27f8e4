"""The `rag` command line: index, search, delete, stats, ask, serve, eval.

Settings come from RAG_* environment variables; flags override them for one run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from rag.cli import ask, evaluate, mcp, serve
from rag.cli.common import CollectionOpt, IndexDirOpt, err, fail, make_settings, open_service, out, parse_filters
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.service.refusals import RefusalStats

app = typer.Typer(help="Offline-first question answering over your documents, with verified citations.",
                  no_args_is_help=True, pretty_exceptions_enable=False)


@app.command()
def index(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to index (recursively)")],
    collection: CollectionOpt = None,
    index_dir: IndexDirOpt = None,
    rebuild: Annotated[bool, typer.Option(help="Re-embed everything from PATHs (after a model/chunking change)")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every passed-over asset and repeated file")] = False,
    engine: Annotated[str, typer.Option(
        help="local, or ray: parse/chunk/embed as a Ray Data job (pip install 'rag[ray]'; RAY_ADDRESS joins a cluster)"
    )] = "local",
) -> None:
    """Index documents; a re-run does only the work the change needs."""
    settings = make_settings(collection, index_dir)
    if engine not in ("local", "ray"):
        fail(f"--engine takes local or ray, got {engine!r}.")
    with open_service(settings) as service:
        report = service.index(paths, rebuild=rebuild, progress=progress and sys.stderr.isatty(), engine=engine)
    for p in report.problems:
        err.print(f"[yellow]skipped[/] {p.source}: {p.message}", highlight=False)
    _print_passed_over(report.assets, report.repeats, verbose)
    m = report.manifest
    out.print(
        f"[bold]{settings.collection}[/]: {report.files} files; documents +{report.documents_added} "
        f"-{report.documents_removed} ={report.documents_unchanged}; chunks +{report.chunks_added} "
        f"({report.chunks_embedded} embedded, {report.chunks_from_cache} from cache); "
        f"total {m.documents if m else 0} documents, {m.chunks if m else 0} chunks "
        f"in {report.seconds.get('total', 0):.1f}s",
        highlight=False,
    )
    if m is None or m.chunks == 0:
        fail("Nothing was indexed: no readable documents in the given paths.", code=2)
    _export_query_encoder(settings, m.model, m.encoder_family)
    err.print(f"[dim]time: {report.time_split()}[/]", highlight=False)


def _export_query_encoder(settings: Settings, model: str, family: str) -> None:
    """Once per model: the fp32 ONNX file that lets `rag ask` / `rag search` on an fp collection start
    without torch (an int8 collection's questions use the int8 file its indexing already made)."""
    from rag.embed.factory import encoder_dir, ensure_exported, has_onnx
    from rag.embed.protocols import QUANTIZED_FAMILIES

    if family in QUANTIZED_FAMILIES or settings.embed_backend == "torch" or has_onnx(settings, model, "fp32"):
        return
    try:
        path = ensure_exported(settings, model)
    except Exception as e:  # noqa: BLE001 - questions still work through torch; say why it is slower
        err.print(f"[yellow]Could not export the ONNX query encoder to {encoder_dir(settings)}[/] ({e}); "
                  "questions will load torch instead (slower start).", highlight=False)
        return
    err.print(f"[dim]Query encoder exported to {path} (questions start without torch).[/]", highlight=False)


def _print_passed_over(assets: list[str], repeats: list, verbose: bool) -> None:
    """One line for the assets (counts by type) and one for repeated files; every file with --verbose."""
    if assets:
        counts: dict[str, int] = {}
        for a in assets:
            suffix = Path(a).suffix.lower()
            counts[suffix] = counts.get(suffix, 0) + 1
        by_type = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        more = "" if verbose else " (--verbose lists them)"
        err.print(f"[dim]passed over {len(assets)} non-document files: {by_type}{more}[/]", highlight=False)
        if verbose:
            for a in assets:
                err.print(f"[dim]  asset {a}[/]", highlight=False)
    if repeats:
        names = ", ".join(Path(r.source).name for r in repeats[:5]) + (" …" if len(repeats) > 5 else "")
        err.print(f"[dim]not indexed, their text repeats other files: {names}"
                  f"{'' if verbose else ' (--verbose says which)'}[/]", highlight=False)
        if verbose:
            for r in repeats:
                err.print(f"[dim]  repeat {r.source}: {r.message}[/]", highlight=False)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="Passages to show")] = 5,
    since: Annotated[Optional[str], typer.Option(help="Only documents dated on/after YYYY-MM-DD")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only documents dated on/before YYYY-MM-DD")] = None,
    source: Annotated[Optional[str], typer.Option(help="Only sources matching this glob")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    collection: CollectionOpt = None,
    index_dir: IndexDirOpt = None,
) -> None:
    """List the best passages with title, date, source and scores."""
    from rag.service.display import DisplayNames  # noqa: PLC0415 - rag.service loads the answer stack

    settings = make_settings(collection, index_dir)
    filters = parse_filters(since, until, source)
    with open_service(settings) as service:
        # documents by display name ("sample/002_….txt"), as every front end names them: no server path
        result = service.search(query, k, filters)
        hits = DisplayNames(service)(result.hits)
    if as_json:
        print(json.dumps({"query": query, "filters": result.filters.model_dump(), "notes": result.notes,
                          "hits": [h.model_dump() for h in hits]}, ensure_ascii=False, indent=2))
        return
    for note in result.notes:
        out.print(f"[dim]{note}[/]", highlight=False)
    if not hits:
        out.print("No passages match.")
    for rank, h in enumerate(hits, start=1):
        p = h.passage
        scores = f"fused {h.fused_score:.4f}"
        scores += f" · dense {h.dense_score:.3f}" if h.dense_score is not None else ""
        scores += f" · bm25 {h.bm25_score:.2f}" if h.bm25_score is not None else ""
        scores += f" · sentence {h.sentence_score:.3f}" if h.sentence_score is not None else ""
        out.print(f"[bold]{rank}. {p.title or '(untitled)'}[/]  {p.date or 'undated'}  [dim]{scores}[/]", highlight=False)
        out.print(f"   [dim]{p.source} chars {p.start}-{p.end} · doc {p.doc_id[:12]}[/]", highlight=False)
        snippet = p.text if len(p.text) < 300 else p.text[:300] + "…"
        out.print(f"   {snippet}\n", highlight=False)


@app.command()
def delete(
    doc_id: Annotated[str, typer.Argument(help="Document id (or a unique prefix of it)")],
    collection: CollectionOpt = None,
    index_dir: IndexDirOpt = None,
) -> None:
    """Remove one document from the index (no rebuild)."""
    settings = make_settings(collection, index_dir)
    with open_service(settings) as service:
        m = service.delete(doc_id, prefix=True)
    out.print(f"Deleted. {m.documents} documents, {m.chunks} chunks remain.")


@app.command()
def stats(collection: CollectionOpt = None, index_dir: IndexDirOpt = None,
          as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
          refusals: Annotated[bool, typer.Option("--refusals", help="Questions and refusals per day instead")] = False,
          days: Annotated[int, typer.Option(min=1, max=3650, help="Days shown with --refusals")] = 30) -> None:
    """Documents, chunks, model and size on disk of a collection (or, with --refusals, refusals per day)."""
    settings = make_settings(collection, index_dir)
    if refusals:
        with open_service(settings) as service:
            _print_refusals(service.refusal_stats(days), as_json)
        return
    with open_service(settings) as service:
        st = service.stats()
    size = st.bytes_on_disk
    data = {**st.manifest.model_dump(), "collection": st.collection, "path": st.path, "bytes_on_disk": size}
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for key in ("collection", "path", "documents", "chunks", "model", "dim", "vector_index", "chunk_tokens",
                "chunk_overlap_tokens", "fingerprint", "generation", "updated_at"):
        out.print(f"{key:>20}: {data[key]}", highlight=False)
    out.print(f"{'size on disk':>20}: {size / 1e6:.1f} MB", highlight=False)


def _print_refusals(st: RefusalStats, as_json: bool) -> None:
    if as_json:
        print(st.model_dump_json(indent=2))
        return
    out.print(f"{st.refused} of {st.asked} questions refused in the days shown", highlight=False)
    for d in st.days:
        out.print(f"  {d.day}  asked {d.asked:>5}  refused {d.refused:>5}  not helpful {d.not_helpful:>5}",
                  highlight=False)
    if not st.questions_logged:
        out.print("[dim]Refused questions are not kept (set RAG_LOG_REFUSED_QUESTIONS=true to see the gaps in "
                  "the corpus).[/]", highlight=False)
    for q in st.questions:
        out.print(f"  {q.at}  {q.question}", highlight=False)
    if st.not_helpful:
        reasons = ", ".join(f"{r} {n}" for r, n in sorted(st.feedback_reasons.items()))
        out.print(f"{st.not_helpful} answers marked not helpful ({st.not_helpful_refused} of them refusals): {reasons}",
                  highlight=False)
    for f in st.feedback_questions:
        out.print(f"  {f.at}  not helpful ({f.reason}): {f.question}", highlight=False)


# ask / serve / eval / mcp live in their own modules (each imports its heavy parts inside the command, so
# registering them costs no start-up); each adds its commands to `app`.
for _commands in (ask, serve, evaluate, mcp):
    _commands.register(app)
