"""Index files into a collection, doing only the work a change needs.

load (ingest) -> diff against what is stored (by document id = sha256 of source + content)
-> chunk the new documents -> embed only chunk texts the cache has never seen -> commit one
new generation (store). Unchanged documents cost nothing but reading and hashing their files.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from rag.chunk.sentences import split_chunk_sentences
from rag.embed.choice import settings_for_collection
from rag.embed.protocols import DocumentEncoder
from rag.ingest.discover import load_paths
from rag.ingest.limits import LoadLimits
from rag.models import Article, Chunk, LoadProblem, LoadResult
from rag.pipeline.engine import ENGINES, IndexEngine, LocalEngine
from rag.pipeline.ray_engine import RayEngine
from rag.settings import Settings
from rag.store.collection import UPLOADS_DIR, Collection, CollectionWriter
from rag.store.manifest import IncompatibleIndex, Manifest


@dataclass
class IndexReport:
    collection: str
    files: int = 0
    documents_added: int = 0
    documents_removed: int = 0
    documents_unchanged: int = 0
    chunks_added: int = 0
    chunks_embedded: int = 0
    chunks_from_cache: int = 0
    sentences_added: int = 0
    sentences_embedded: int = 0
    problems: list[LoadProblem] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)  # non-document files passed over (.css, fonts, images)
    repeats: list[LoadProblem] = field(default_factory=list)  # files whose text repeats others': not indexed
    manifest: Manifest | None = None
    # Wall-clock seconds by step: load (parse), encoder (load or export the model), chunk, embed (chunk
    # vectors), embed_sentences (eager sentence vectors), store (the commit), total.
    seconds: dict[str, float] = field(default_factory=dict)

    def time_split(self) -> str:
        """The steps' seconds in one line, in run order ("parse 2.1s, chunk 14.0s, ..."): `rag index` prints it last."""
        names = (("load", "parse"), ("encoder", "load encoder"), ("chunk", "chunk"), ("embed", "encode chunks"),
                 ("embed_sentences", "encode sentences"), ("store", "write"))
        parts = [f"{label} {self.seconds[key]:.1f}s" for key, label in names if key in self.seconds]
        return ", ".join(parts) + f" (total {self.seconds.get('total', 0.0):.1f}s)"

    @property
    def changed(self) -> bool:
        return bool(self.documents_added or self.documents_removed)


def _under(source: str, roots: list[str]) -> bool:
    return any(source == r or source.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def plan_removals(
    stored: dict[str, set[str]], articles: list[Article], problems: list[LoadProblem], roots: list[str]
) -> list[str]:
    """Stored documents to drop: those of files under `roots` that changed or are gone.

    A file that exists but failed to load keeps its old documents: an unreadable moment must not
    silently delete what was indexed.
    """
    fresh: dict[str, set[str]] = {}
    for a in articles:
        fresh.setdefault(a.source, set()).add(a.doc_id)
    # A problem on a folder (unreadable sub-folder) protects every document stored under it.
    failed = [p.source for p in problems if p.source not in fresh]
    remove: list[str] = []
    for source, doc_ids in stored.items():
        if _under(source, failed) or not (_under(source, roots) or source in fresh):
            continue
        remove += sorted(doc_ids - fresh.get(source, set()))
    return remove


def chunk_sentences(embedder: DocumentEncoder, chunks: list[Chunk]) -> tuple[dict[str, list[tuple[int, int, str]]], dict[str, str]]:
    """Each chunk's sentences as (article start, article end, cache key), and the text of every key.

    Sentences are embedded alone (no title prefix): that is how answers compare them to a question.
    """
    rows: dict[str, list[tuple[int, int, str]]] = {}
    texts: dict[str, str] = {}
    for c in chunks:
        out = []
        for s, e in split_chunk_sentences(c.text):
            key = embedder.cache_key(c.text[s:e])
            texts[key] = c.text[s:e]
            out.append((c.start + s, c.start + e, key))
        rows[c.chunk_id] = out
    return rows, texts


def _ray_engine(settings: Settings) -> IndexEngine:
    try:
        return RayEngine(settings)  # imports Ray, an optional extra
    except ModuleNotFoundError as e:
        raise RuntimeError(f"--engine ray needs Ray ({e}): pip install 'rag[ray]'.") from None


def _choose_vector_kind(settings: Settings, n_chunks: int) -> str:
    if settings.vector_index != "auto":
        return settings.vector_index
    return "hnsw" if n_chunks > settings.ann_threshold else "flat"


def index_paths(
    paths: list[Path],
    settings: Settings,
    *,
    rebuild: bool = False,
    progress: bool = False,
    embedder: DocumentEncoder | None = None,
    engine: str = "local",
    loaded: LoadResult | None = None,
) -> IndexReport:
    """`engine`: where parsing, chunking and embedding run (`local`, or `ray`: rag.pipeline.ray_engine);
    the diff, the embedding cache and the commit are the same for both. `loaded` = the files already
    parsed (the service parses uploads outside its write lock)."""
    target = settings.collection_dir
    if engine not in ENGINES:
        raise ValueError(f"Unknown engine {engine!r}: use one of {', '.join(ENGINES)}.")
    if rebuild:
        return _rebuild(paths, settings, progress=progress, embedder=embedder, engine=engine)
    _recover_interrupted_rebuild(target)
    report = IndexReport(collection=settings.collection)
    t0 = time.perf_counter()
    remote = _ray_engine(settings) if engine == "ray" else None
    if loaded is None:
        limits = LoadLimits.from_settings(settings)
        loaded = remote.load([Path(p) for p in paths]) if remote else load_paths([Path(p) for p in paths], limits=limits)
    report.files, report.problems = len(loaded.files_seen), loaded.problems
    report.assets, report.repeats = loaded.assets, loaded.repeats
    report.seconds["load"] = time.perf_counter() - t0

    collection = Collection(target, settings)
    with collection.writer() as writer:
        current = writer.current_manifest()
        # The model follows the collection: its manifest's, or for a new one the auto-pick by script (a mostly
        # Han collection gets the multilingual encoder, rag/embed/choice.py); a caller's own encoder is kept.
        chosen = settings_for_collection(settings, current, loaded.articles if embedder is None else None)
        if chosen is not settings:
            settings = chosen
            remote = _ray_engine(settings) if remote is not None else None  # workers chunk by these settings
        if current is not None:  # refuse before loading a model or touching anything
            current.check_compatible(settings, collection.rebuild_command())
        if embedder is None:
            from rag.embed.factory import make_encoder  # noqa: PLC0415 - loads a model: only when needed

            t = time.perf_counter()
            embedder = make_encoder(settings, "document", current)  # a first run also exports the ONNX file
            report.seconds["encoder"] = time.perf_counter() - t
        if current is not None and embedder.identity.compat_key != current.encoder_key:
            raise IncompatibleIndex(
                f"{embedder.identity.describe()} makes vectors of another kind than this collection's "
                f"({current.encoder_key}); use a matching encoder or `{collection.rebuild_command()}`."
            )
        manifest = current or Manifest.for_settings(settings, embedder.dim, identity=embedder.identity)
        if remote is not None:
            remote.manifest_json = manifest.model_dump_json()  # workers build the same encoder from it
        runner: IndexEngine = remote or LocalEngine(embedder, settings)
        _apply_changes(writer, loaded.articles, loaded.problems, paths, settings, embedder, runner, manifest, report,
                       progress)
    report.seconds["total"] = time.perf_counter() - t0
    return report


def _apply_changes(
    writer: CollectionWriter,
    articles: list[Article],
    problems: list[LoadProblem],
    paths: list[Path],
    settings: Settings,
    embedder: DocumentEncoder,
    runner: IndexEngine,
    manifest: Manifest,
    report: IndexReport,
    progress: bool,
) -> None:
    stored = writer.doc_ids_by_source()
    stored_ids = set().union(*stored.values()) if stored else set()
    roots = [os.path.abspath(p) for p in paths]
    remove = plan_removals(stored, articles, problems, roots)
    # One document can appear twice (same file given twice, identical records): keep the first.
    unique: dict[str, Article] = {}
    for a in articles:
        unique.setdefault(a.doc_id, a)
    new_articles = [a for d, a in unique.items() if d not in stored_ids]
    report.documents_unchanged = len(unique) - len(new_articles)

    t = time.perf_counter()
    chunked = runner.chunk(new_articles)
    chunks, inputs = chunked.chunks, chunked.inputs
    by_doc: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    report.seconds["chunk"] = time.perf_counter() - t

    keys = {cid: embedder.cache_key(text) for cid, text in inputs.items()}
    cached = writer.cached_vectors(sorted(set(keys.values())), embedder.dim)
    missing = {keys[cid]: inputs[cid] for cid in inputs if keys[cid] not in cached}
    t = time.perf_counter()
    new_vectors = runner.embed(missing, progress)
    report.seconds["embed"] = time.perf_counter() - t
    report.chunks_embedded = len(missing)
    report.chunks_from_cache = len(chunks) - len(missing)

    sentences: dict[str, list[tuple[int, int, str]]] | None = None
    if manifest.sentence_vectors:
        t = time.perf_counter()
        sentences, sentence_texts = chunk_sentences(embedder, chunks)
        known = set(new_vectors) | set(writer.cached_vectors(sorted(set(sentence_texts) - set(new_vectors)), embedder.dim))
        todo = {k: v for k, v in sentence_texts.items() if k not in known}
        new_vectors.update(runner.embed(todo, progress, "sentences"))
        report.seconds["embed_sentences"] = time.perf_counter() - t
        report.sentences_added = sum(len(v) for v in sentences.values())
        report.sentences_embedded = len(todo)

    if not remove and not new_articles and writer.generation:
        report.manifest = writer.current_manifest()
        return  # nothing changed: no new generation
    t = time.perf_counter()
    add = [(a, by_doc.get(a.doc_id, []), [keys[c.chunk_id] for c in by_doc.get(a.doc_id, [])]) for a in new_articles]
    total_chunks = (manifest.chunks if writer.generation else 0) + len(chunks)
    report.manifest = writer.commit(
        manifest, remove, add, new_vectors, _choose_vector_kind(settings, total_chunks), sentences=sentences
    )
    report.seconds["store"] = time.perf_counter() - t
    report.documents_added, report.documents_removed, report.chunks_added = len(new_articles), len(remove), len(chunks)


def delete_document(settings: Settings, doc_id: str) -> Manifest:
    """Remove one document (by id or unique id prefix) as a new generation."""
    collection = Collection(settings.collection_dir, settings)
    if not collection.exists():
        raise FileNotFoundError(f"No collection at {settings.collection_dir}; nothing to delete.")
    with collection.writer() as writer:
        stored = set().union(*writer.doc_ids_by_source().values())
        matches = [d for d in stored if d.startswith(doc_id)] if doc_id else []
        if len(matches) != 1:
            what = "No document" if not matches else f"{len(matches)} documents"
            raise KeyError(f"{what} with id starting {doc_id!r}. List ids with `rag search` or the API's /v1/documents.")
        manifest = writer.current_manifest()
        assert manifest is not None
        return writer.commit(manifest, matches, [], {}, manifest.vector_index)


def delete_sources(settings: Settings, sources: list[str]) -> tuple[Manifest, list[str]]:
    """Remove every document of these sources (whole files: a press-release file holds several articles)
    as one new generation; returns the manifest and the ids removed. KeyError when none is stored."""
    collection = Collection(settings.collection_dir, settings)
    if not collection.exists():
        raise FileNotFoundError(f"No collection at {settings.collection_dir}; nothing to delete.")
    with collection.writer() as writer:
        by_source = writer.doc_ids_by_source()
        doc_ids = sorted(set().union(*(by_source.get(s, set()) for s in sources)))
        if not doc_ids:
            raise KeyError("No documents from that file in the index. List the files first (the API's /v1/files).")
        manifest = writer.current_manifest()
        assert manifest is not None
        return writer.commit(manifest, doc_ids, [], {}, manifest.vector_index), doc_ids


def _rebuild(
    paths: list[Path], settings: Settings, *, progress: bool, embedder: DocumentEncoder | None, engine: str = "local"
) -> IndexReport:
    """Build a fresh collection beside the old one, then swap folders: the old stays usable until then.

    Files added over the API or MCP live in the collection's own `uploads/` folder, which the user
    never names in PATHs: they are re-indexed with the PATHs and hard-linked (copied across file
    systems) into the new folder before the swap, so a rebuild keeps them and a crash at any point
    leaves them in the old collection."""
    target = settings.collection_dir
    staging = target.with_name(target.name + ".rebuild")
    shutil.rmtree(staging, ignore_errors=True)
    staged = settings.model_copy(update={"collection": staging.name})
    uploads = target / UPLOADS_DIR
    if uploads.is_dir() and any(uploads.iterdir()):
        paths = [*paths, uploads]  # sources stay `<collection>/uploads/<name>`, as the swap makes them again
    report = index_paths(paths, staged, progress=progress, embedder=embedder, engine=engine)
    if uploads.is_dir():
        shutil.copytree(uploads, staging / UPLOADS_DIR, copy_function=_link_or_copy, dirs_exist_ok=True)
    report.collection = settings.collection
    old_collection = Collection(target, settings)
    old_manifest = old_collection.manifest()
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    if old_manifest is not None:
        # A server-side backend keeps the old data outside the folder: drop it now nothing names it.
        Collection(old, settings).backend(old_manifest).drop(old_manifest)
    shutil.rmtree(old, ignore_errors=True)
    return report


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _recover_interrupted_rebuild(target: Path) -> None:
    """A rebuild killed between its two renames leaves only `<name>.old`: put it back."""
    old = target.with_name(target.name + ".old")
    if not target.exists() and old.exists():
        old.rename(target)
