"""`rag index PATH --engine ray`: parsing, chunking and embedding as Ray Data jobs (extra `ray`).

Three `ray.data` stages, each `map_batches` with the same functions as the local engine:
    files -> parse (stateless tasks, `load_paths` per file)          -> articles   (driver diffs by doc id)
    new articles -> chunk (actor pool: the model's tokenizer, loaded once per worker) -> chunks
    texts the cache lacks -> embed (actor pool: the embedding model, loaded once per worker) -> vectors
The driver keeps what needs one view of the collection: the diff against stored document ids, the
embedding-cache lookup and the commit, which writes to the configured store (local or Milvus) in
batches. `ray.init()` starts a local Ray on 127.0.0.1 unless `RAY_ADDRESS` names a cluster.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np

from rag.ingest import discover
from rag.ingest.discover import load_paths
from rag.ingest.repeats import find_repeats
from rag.models import Article, Chunk, LoadProblem, LoadResult
from rag.pipeline.engine import ChunkedArticles, chunk_articles, make_chunker
from rag.settings import Settings

PARSE_BATCH = 16  # files per parse task: small files, so enough tasks to keep every worker busy
CHUNK_BATCH = 64  # articles per chunking call
EMBED_BATCH = 256  # texts per embedding call (encode() still batches by embed_batch_size inside)
_SECRET_FIELDS = {"llm_base_url", "llm_api_key"}  # never shipped to workers (and set by alias only)


def _article_json(a: Article) -> str:
    return json.dumps({**asdict(a), "tags": list(a.tags), "span": list(a.span)}, ensure_ascii=False)


def _article(data: str) -> Article:
    d = json.loads(data)
    return Article(**{**d, "tags": tuple(d["tags"]), "span": tuple(d["span"])})


def _parse_batch(batch: dict[str, np.ndarray]) -> dict[str, list[str]]:
    """One row per article, problem, file seen or asset: (kind, JSON)."""
    kinds: list[str] = []
    payloads: list[str] = []
    for path in batch["path"]:
        result = load_paths([str(path)], drop_repeats=False)  # repeats span files: the driver finds them
        for a in result.articles:
            kinds.append("article")
            payloads.append(_article_json(a))
        for p in result.problems:
            kinds.append("problem")
            payloads.append(json.dumps(asdict(p), ensure_ascii=False))
        for f in result.files_seen:
            kinds.append("file")
            payloads.append(json.dumps(f))
        for f in result.assets:
            kinds.append("asset")
            payloads.append(json.dumps(f))
    return {"kind": kinds, "payload": payloads}


def _worker_encoder(settings_json: str, manifest_json: str):  # noqa: ANN202 - DocumentEncoder
    """The same encoder the driver made: same factory, same settings, same manifest."""
    from rag.embed.factory import make_encoder  # noqa: PLC0415 - imported in the worker process
    from rag.store.manifest import Manifest  # noqa: PLC0415

    settings = Settings(**json.loads(settings_json))
    return settings, make_encoder(settings, "document", Manifest.model_validate_json(manifest_json))


class _ChunkWorker:
    """Loads the encoder (its tokenizer sizes chunks) once per worker."""

    def __init__(self, settings_json: str, manifest_json: str) -> None:
        settings, encoder = _worker_encoder(settings_json, manifest_json)
        self.chunker = make_chunker(encoder, settings)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[str]]:
        done = chunk_articles(self.chunker, [_article(j) for j in batch["article"]])
        return {"chunk": [json.dumps(asdict(c), ensure_ascii=False) for c in done.chunks],
                "input": [done.inputs[c.chunk_id] for c in done.chunks]}


class _EmbedWorker:
    """Loads the embedding model once per worker; each call embeds one batch of texts."""

    def __init__(self, settings_json: str, manifest_json: str) -> None:
        self.embedder = _worker_encoder(settings_json, manifest_json)[1]

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        return {"key": batch["key"], "vector": self.embedder.encode(texts)}


def discover_files(paths: list[Path]) -> tuple[list[str], list[LoadProblem]]:
    """The files `load_paths` would read, in its order, without reading them."""
    problems: list[LoadProblem] = []
    files: list[str] = []
    seen: set[str] = set()
    for given in paths:
        if not given.exists():
            load_paths([given])  # raises the loader's own FileNotFoundError with advice
        found = discover._walk(given, True, problems) if given.is_dir() else iter([given])
        for path in found:
            source = os.path.abspath(path)
            if source not in seen:
                seen.add(source)
                files.append(source)
    return files, problems


def init_local_ray(num_cpus: int | None = None) -> None:
    """A one-machine Ray bound to 127.0.0.1, whose workers import rag from where this process does."""
    import ray  # noqa: PLC0415

    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    ray.init(num_cpus=num_cpus, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                                       "TOKENIZERS_PARALLELISM": "false"}})


class RayEngine:
    name = "ray"

    def __init__(self, settings: Settings, workers: int | None = None) -> None:
        self.manifest_json = ""  # set by the indexer once the collection's manifest is known
        import ray  # noqa: PLC0415 - optional extra

        if not ray.is_initialized():
            if os.environ.get("RAY_ADDRESS"):
                ray.init(log_to_driver=False)  # join the cluster RAY_ADDRESS names
            else:
                init_local_ray()
        self._ray = ray
        self.settings = settings
        self.workers = workers or settings.ray_workers or max(1, int(ray.available_resources().get("CPU", 1)))
        self.settings_json = settings.model_dump_json(exclude=_SECRET_FIELDS)

    def _workers_kwargs(self) -> dict[str, str]:
        assert self.manifest_json, "the indexer sets the manifest before chunking"
        return {"settings_json": self.settings_json, "manifest_json": self.manifest_json}

    def _blocks(self, n: int, batch: int) -> int:
        """Enough blocks for every worker to get work, no smaller than a batch."""
        return max(1, min(max(self.workers * 4, 1), -(-n // batch)))

    def _progress(self, enabled: bool) -> None:
        self._ray.data.DataContext.get_current().enable_progress_bars = enabled

    def load(self, paths: list[Path]) -> LoadResult:
        files, problems = discover_files([Path(p) for p in paths])
        result = LoadResult(problems=problems)
        if not files:
            return result
        self._progress(False)
        ds = self._ray.data.from_items([{"path": f} for f in files])
        parsed = ds.map_batches(_parse_batch, batch_size=PARSE_BATCH, batch_format="numpy")
        rows = parsed.take_all()
        order = {f: i for i, f in enumerate(files)}
        articles = [_article(r["payload"]) for r in rows if r["kind"] == "article"]
        # Ray returns blocks in any order; the local engine's order is by file, then position in the file.
        articles.sort(key=lambda a: (order.get(a.source, len(order)), a.span))
        result.articles = discover.infer_folder_years(articles)  # as load_paths does: a folder's year for year-less dates
        result.problems += [LoadProblem(**json.loads(r["payload"])) for r in rows if r["kind"] == "problem"]
        result.files_seen = sorted((json.loads(r["payload"]) for r in rows if r["kind"] == "file"), key=order.get)
        result.assets = sorted((json.loads(r["payload"]) for r in rows if r["kind"] == "asset"), key=order.get)
        result.repeats = find_repeats(result.articles)  # as load_paths does, over every file at once
        dropped = {p.source for p in result.repeats}
        result.articles = [a for a in result.articles if a.source not in dropped]
        return result

    def chunk(self, articles: list[Article]) -> ChunkedArticles:
        if not articles:
            return ChunkedArticles([], {})
        self._progress(False)
        ds = self._ray.data.from_items([{"article": _article_json(a)} for a in articles],
                                       override_num_blocks=self._blocks(len(articles), CHUNK_BATCH))
        out = ds.map_batches(_ChunkWorker, fn_constructor_kwargs=self._workers_kwargs(),
                             batch_size=CHUNK_BATCH, batch_format="numpy", concurrency=self.workers, num_cpus=1)
        rows = out.take_all()
        chunks = [Chunk(**json.loads(r["chunk"])) for r in rows]
        order = {a.doc_id: i for i, a in enumerate(articles)}
        inputs = {c.chunk_id: str(r["input"]) for c, r in zip(chunks, rows)}
        chunks.sort(key=lambda c: (order[c.doc_id], c.ordinal))
        return ChunkedArticles(chunks, inputs)

    def embed(self, texts_by_key: dict[str, str], progress: bool, what: str = "chunks") -> dict[str, np.ndarray]:
        if not texts_by_key:
            return {}
        self._progress(progress)
        # Longest first, as the local engine does: batches of similar length pad little.
        keys = sorted(texts_by_key, key=lambda k: len(texts_by_key[k]), reverse=True)
        ds = self._ray.data.from_items([{"key": k, "text": texts_by_key[k]} for k in keys],
                                       override_num_blocks=self._blocks(len(keys), EMBED_BATCH))
        out = ds.map_batches(_EmbedWorker, fn_constructor_kwargs=self._workers_kwargs(),
                             batch_size=EMBED_BATCH, batch_format="numpy", concurrency=self.workers, num_cpus=1)
        vectors: dict[str, np.ndarray] = {}
        for batch in out.iter_batches(batch_size=EMBED_BATCH, batch_format="numpy"):
            vectors.update(zip((str(k) for k in batch["key"]), np.asarray(batch["vector"], dtype=np.float32)))
        return vectors
