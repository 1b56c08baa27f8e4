"""Milvus backend (pymilvus `MilvusClient`): Milvus Lite for one machine, a Milvus server for many.

`RAG_MILVUS_URI` is a file path (`.db`, embedded Milvus Lite: tests, one machine) or
`http://host:19530` (standalone or distributed Milvus); nothing else changes.

One Milvus collection per rag collection, updated in place (a collection per generation would copy
everything on every upload). Each row carries the generation that added it and the one that
removed it, and every search filters on `gen_added <= G and gen_removed > G`, so:
- a reader of generation G never sees rows staged for G+1, nor loses rows G+1 removes;
- a writer killed before SQLite commits G+1 leaves G readable; the next writer deletes rows with
  `gen_added > committed` and un-removes rows with `gen_removed > committed` (`recover`);
- rows removed at G are purged once G+1 is published (one generation of grace, like the local
  backend keeps the previous generation's folder).
A full rebuild writes a new physical collection and moves the alias `rag_<collection>` to it.

Keyword search is Milvus's server-side BM25 (a `Function` from a text field to a sparse vector).
The text field holds our own analysed terms (`BM25Index.query_terms`, the local index's analyser: stop words out, Snowball stems)
joined by spaces, because Milvus Lite's analyzer has only the standard tokenizer (no stemmer or stop
filter) and one analysis for every backend keeps keyword rankings the same. Milvus's BM25 is
Lucene's formula (bm25s's `lucene` method: same IDF, same length normalisation) with the score
multiplied by k1+1 (Lite also reports it negated); it is divided back so scores share one scale.
The BM25 parameters (k1, b, stemming, stop words) are fixed when the collection is created and
recorded in the manifest (`bm25_params`), because the sparse index is updated in place; a new
collection takes `bm25.DEFAULT_PARAMS`. A method Milvus cannot compute (robertson, atire, BM25L,
BM25+) is refused with advice rather than approximated.

Filters become a Milvus expression pushed into each search. A source glob that `like` cannot say
exactly (`?`, `[...]`, or a literal `%`, `_`, `\\`, `"`) is resolved exactly by SQLite into the list
of matching sources, pushed down as `source in [...]`.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
import threading
import uuid
from pathlib import Path

import numpy as np
from pymilvus import DataType, Function, FunctionType, MilvusClient
from pymilvus.exceptions import MilvusException

from rag.models import SearchFilters
from rag.settings import Settings
from rag.store.backend import TIE_MARGIN, ChangeSet, IndexRow, MetadataLookup, Ranked, RowSource, StoreUnavailable
from rag.store.bm25 import DEFAULT_PARAMS, BM25Index, Bm25Params, params_from_record
from rag.store.faults import crash_point
from rag.store.filters import filters_active, sqlite_glob
from rag.store.manifest import IncompatibleIndex, Manifest
from rag.store.vectors import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M

LIVE = 2**62  # gen_removed of a row no generation has removed
BATCH = 1_000  # rows per insert/upsert/query call: well under Milvus's 64 MB request limit at 384-d
MAX_VARCHAR = 65_535  # Milvus's VARCHAR limit, in bytes
DEFAULT_LITE_FILE = "milvus.db"
_LIKE_UNSAFE = re.compile(r'[?\[\]%_\\"]')
_ROW_FIELDS = ["id", "doc_id", "terms", "vector", "date", "day", "source", "gen_added", "gen_removed"]


class MilvusUnavailable(StoreUnavailable):
    """Milvus could not be opened; the message says why and what to do."""


# Milvus Lite runs one embedded server per file and per process, and opening it costs about a
# second: one client per URI for the whole process (reader snapshots and the writer share it).
_clients: dict[str, MilvusClient] = {}
_clients_lock = threading.Lock()
_loaded: set[tuple[str, str]] = set()


def is_lite(uri: str) -> bool:
    return not re.match(r"^(https?|tcp|grpc)://", uri)


def client_for(uri: str, token: str | None = None) -> MilvusClient:
    with _clients_lock:
        if uri in _clients:
            return _clients[uri]
        if is_lite(uri):
            if not uri.endswith(".db"):
                raise MilvusUnavailable(f"RAG_MILVUS_URI={uri!r}: a Milvus Lite file must end in .db "
                                        "(or give a server as http://host:19530).")
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        try:
            client = MilvusClient(uri=uri, token=token or "")
        except MilvusException as e:
            if is_lite(uri):
                raise MilvusUnavailable(
                    f"Cannot open the Milvus Lite file {uri} ({e.message}). Milvus Lite allows one process per "
                    "file, and another process (a running `rag serve` or `rag index`?) probably holds it. Stop "
                    "it and retry, add documents through the running server (POST /v1/documents), or use a "
                    "Milvus server that many processes share: RAG_MILVUS_URI=http://host:19530."
                ) from None
            raise MilvusUnavailable(f"Cannot reach Milvus at {uri} ({e.message}): is the server running?") from None
        _clients[uri] = client
        return client


def _ensure_loaded(client: MilvusClient, uri: str, name: str) -> None:
    # A collection reopened in a new process starts released; loading twice is harmless but slow.
    if (uri, name) not in _loaded:
        client.load_collection(name)
        _loaded.add((uri, name))


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _sanitize(name: str) -> str:
    return "rag_" + re.sub(r"[^0-9A-Za-z_]", "_", name)


def glob_to_like(glob: str) -> str | None:
    """The `like` pattern meaning exactly this GLOB, or None when `like` cannot say it."""
    if _LIKE_UNSAFE.search(glob):
        return None
    return glob.replace("*", "%")


def filter_expression(filters: SearchFilters | None, lookup: MetadataLookup) -> str | None:
    """Milvus boolean expression for the filters: "" = no filter, None = nothing can match."""
    if not filters_active(filters):
        return ""
    assert filters is not None
    clauses: list[str] = []
    if filters.since or filters.until:
        dated = ['date != ""']
        if filters.since:
            dated.append(f"date >= {_quote(filters.since)}")
        if filters.until:
            dated.append(f"day <= {_quote(filters.until[:10])}")
        date_expr = " and ".join(dated)
        clauses.append(f'(date == "" or ({date_expr}))' if filters.include_undated else f"({date_expr})")
    if filters.source_glob:
        glob = sqlite_glob(filters.source_glob)
        like = glob_to_like(glob)
        if like is not None:
            clauses.append(f"source like {_quote(like)}")
        else:
            sources = lookup.sources_matching(glob)
            if not sources:
                return None
            clauses.append(f"source in [{', '.join(_quote(s) for s in sources)}]")
    return " and ".join(clauses)


def milvus_bm25(params: Bm25Params) -> Bm25Params:
    """`params` if Milvus's BM25 function computes exactly that ranking, else an error that says what to do."""
    if params.method != "lucene":
        raise IncompatibleIndex(
            f"BM25 method {params.method!r} cannot be reproduced by Milvus (its BM25 function is Lucene's "
            "formula; k1, b, stemming and stop words can be chosen). Use method 'lucene' in "
            "rag/store/bm25.py DEFAULT_PARAMS for Milvus collections, or RAG_STORE=local."
        )
    return params


def _terms_text(text: str, analyzer: BM25Index) -> str:
    terms = " ".join(analyzer.query_terms(text))
    data = terms.encode("utf-8")
    if len(data) <= MAX_VARCHAR:
        return terms
    return data[:MAX_VARCHAR].decode("utf-8", "ignore").rsplit(" ", 1)[0]


class MilvusSearchIndex:
    """One generation of a Milvus collection, seen through the generation filter."""

    def __init__(self, client: MilvusClient, name: str, gen: int, kind: str, lookup: MetadataLookup,
                 bm25: Bm25Params = DEFAULT_PARAMS) -> None:
        self._client, self._name, self._kind, self._lookup = client, name, kind, lookup
        self._bm25 = milvus_bm25(bm25)
        # The same analyser as the local store, made once: a question's terms without bm25s.tokenize per call.
        self._analyzer = BM25Index(None, np.zeros(0, dtype=np.int64), self._bm25)
        self._gen_expr = f"gen_added <= {gen} and gen_removed > {gen}"
        res = client.query(name, filter=self._gen_expr, output_fields=["count(*)"])
        self._size = int(res[0]["count(*)"])

    @property
    def size(self) -> int:
        return self._size

    def _expr(self, filters: SearchFilters | None) -> str | None:
        extra = filter_expression(filters, self._lookup)
        if extra is None:
            return None
        return f"{self._gen_expr} and {extra}" if extra else self._gen_expr

    def ids(self) -> np.ndarray:
        it = self._client.query_iterator(self._name, batch_size=10 * BATCH, filter=self._gen_expr, output_fields=["id"])
        out: list[int] = []
        try:
            while batch := it.next():
                out += [int(r["id"]) for r in batch]
        finally:
            it.close()
        return np.array(out, dtype=np.int64)

    def _search(self, data: list, field: str, k: int, expr: str, params: dict) -> Ranked:
        res = self._client.search(
            self._name, data=data, anns_field=field, limit=k, filter=expr, search_params=params, output_fields=["id"]
        )
        hits = res[0]
        ids = np.array([int(h["id"]) for h in hits], dtype=np.int64)
        return Ranked(ids, np.array([float(h["distance"]) for h in hits], dtype=np.float32))

    def _dense_params(self, k: int) -> dict:
        return {"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, k)} if self._kind == "hnsw" else {}}

    def dense(self, query: np.ndarray, k: int, filters: SearchFilters | None = None) -> Ranked:
        expr = self._expr(filters)
        if expr is None or k <= 0 or self._size == 0:
            return Ranked.empty()
        found = self._search([np.asarray(query, dtype=np.float32)], "vector", k + TIE_MARGIN, expr, self._dense_params(k))
        return found.top(k)

    def keyword(self, query: str, k: int, filters: SearchFilters | None = None) -> Ranked:
        expr = self._expr(filters)
        terms = self._analyzer.query_terms(query)
        if expr is None or k <= 0 or self._size == 0 or not terms:
            return Ranked.empty()
        found = self._search([" ".join(terms)], "sparse", k + TIE_MARGIN, expr, {"metric_type": "BM25"})
        scores = np.abs(found.scores) / (self._bm25.k1 + 1)  # back to bm25s's scale (Lite negates the distance)
        keep = scores > 0
        return Ranked(found.ids[keep], scores[keep].astype(np.float32)).top(k)

    def dense_scores(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        if not ids:
            return {}
        expr = f"{self._gen_expr} and id in [{', '.join(str(int(i)) for i in ids)}]"
        found = self._search([np.asarray(query, dtype=np.float32)], "vector", len(ids), expr, self._dense_params(len(ids)))
        return {int(i): float(s) for i, s in zip(found.ids, found.scores)}

    def problems(self) -> list[str]:
        return []

    def close(self) -> None:
        pass  # the client is shared by the process


class MilvusBackend:
    name = "milvus"

    def __init__(self, uri: str, token: str | None, physical: str, alias: str, configured_uri: str | None) -> None:
        self.uri, self.token = uri, token
        self.physical, self.alias = physical, alias
        self._configured_uri = configured_uri  # recorded in the manifest (None = the default Lite file)

    @classmethod
    def for_collection(
        cls, root: Path, settings: Settings | None, manifest: Manifest | None, uid: str | None = None
    ) -> MilvusBackend:
        settings = settings or Settings()  # a reader without settings still honours RAG_MILVUS_URI / _TOKEN
        configured = settings.milvus_uri or (manifest.store_uri if manifest else None)
        uri = configured or str(Path(root).parent / DEFAULT_LITE_FILE)
        alias = _sanitize(Path(root).name.removesuffix(".rebuild"))
        physical = manifest.store_collection if manifest and manifest.store_collection else None
        if physical is None:
            physical = f"{alias}_{(uid or uuid.uuid4().hex)[:12]}"
        return cls(uri, settings.milvus_token, physical, alias, configured)

    @property
    def client(self) -> MilvusClient:
        return client_for(self.uri, self.token)

    # ---------------------------------------------------------------- writer side
    def recover(self, committed: int, manifest: Manifest | None) -> None:
        c = self.client
        if not c.has_collection(self.physical):
            return
        _ensure_loaded(c, self.uri, self.physical)
        c.delete(self.physical, filter=f"gen_added > {committed}")
        it = c.query_iterator(self.physical, batch_size=BATCH, output_fields=_ROW_FIELDS,
                              filter=f"gen_removed > {committed} and gen_removed < {LIVE}")
        orphaned: list[dict] = []
        try:
            while batch := it.next():
                orphaned += batch
        finally:
            it.close()
        for i in range(0, len(orphaned), BATCH):
            c.upsert(self.physical, [{**r, "gen_removed": LIVE} for r in orphaned[i : i + BATCH]])

    def stage(self, gen: int, manifest: Manifest, change: ChangeSet, rows: RowSource) -> Manifest:
        c = self.client
        if c.has_collection(self.physical):
            bm25 = milvus_bm25(params_from_record(manifest.bm25_params))
        else:  # a new collection: the parameters asked for (or today's default) are fixed from here on
            bm25 = milvus_bm25(params_from_record(manifest.bm25_params) if manifest.bm25_params else DEFAULT_PARAMS)
        self._ensure_collection(manifest, bm25)
        analyzer = BM25Index(None, np.zeros(0, dtype=np.int64), bm25)  # one per write, not one per row
        removed = [int(r) for r in change.removed]
        for i in range(0, len(removed), BATCH):
            part = removed[i : i + BATCH]
            found = c.query(self.physical, filter=f"gen_removed == {LIVE} and id in [{', '.join(map(str, part))}]",
                            output_fields=_ROW_FIELDS)
            if found:
                c.upsert(self.physical, [{**r, "gen_removed": gen} for r in found])
        crash_point("mid_generation_write")
        for i in range(0, len(change.added), BATCH):
            assert change.vectors is not None
            part = change.added[i : i + BATCH]
            c.upsert(self.physical, [self._row(r, change.vectors[i + j], gen, analyzer) for j, r in enumerate(part)])
        # Seal what was written: on unsealed (growing) segments a filtered BM25 search computes its
        # statistics over the filtered rows only, so scores would change with the filter (measured
        # on Milvus Lite 3.2.2); sealed segments score with collection-wide statistics.
        c.flush(self.physical)
        return manifest.model_copy(
            update={"store": self.name, "store_uri": self._configured_uri, "store_collection": self.physical,
                    "bm25_params": asdict(bm25)}
        )

    @staticmethod
    def _row(r: IndexRow, vector: np.ndarray, gen: int, analyzer: BM25Index) -> dict:
        date = r.date or ""
        return {
            "id": r.row_id, "doc_id": r.doc_id, "terms": _terms_text(r.keyword_text, analyzer),
            "vector": np.asarray(vector, dtype=np.float32), "date": date, "day": date[:10], "source": r.source,
            "gen_added": gen, "gen_removed": LIVE,
        }

    def published(self, gen: int, manifest: Manifest) -> None:
        c = self.client
        c.delete(self.physical, filter=f"gen_removed <= {gen - 1}")
        current = None
        if self.alias in c.list_aliases().get("aliases", []):
            current = c.describe_alias(self.alias).get("collection_name")
        if current is None:
            c.create_alias(self.physical, self.alias)
        elif current != self.physical:
            c.alter_alias(self.physical, self.alias)  # a full rebuild: external readers follow the switch

    def open_index(self, gen: int, manifest: Manifest, lookup: MetadataLookup) -> MilvusSearchIndex:
        c = self.client
        _ensure_loaded(c, self.uri, self.physical)
        return MilvusSearchIndex(c, self.physical, gen, manifest.vector_index, lookup,
                                 params_from_record(manifest.bm25_params))

    def drop(self, manifest: Manifest) -> None:
        c = self.client
        if c.has_collection(self.physical):
            c.drop_collection(self.physical)
        _loaded.discard((self.uri, self.physical))

    # ---------------------------------------------------------------- schema
    def _ensure_collection(self, manifest: Manifest, bm25: Bm25Params) -> None:
        c, kind = self.client, manifest.vector_index
        if c.has_collection(self.physical):
            _ensure_loaded(c, self.uri, self.physical)
            built = c.describe_index(self.physical, "vector").get("index_type", "")
            if built != _index_type(kind):  # the auto switch from flat to HNSW: re-index in place
                c.release_collection(self.physical)
                c.drop_index(self.physical, "vector")
                c.create_index(self.physical, self._index_params(c, kind, bm25, dense_only=True))
                c.load_collection(self.physical)
            return
        schema = c.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True, description="SQLite chunk row id")
        schema.add_field("doc_id", DataType.VARCHAR, max_length=64)
        schema.add_field("terms", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard"})
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=manifest.dim)
        schema.add_field("date", DataType.VARCHAR, max_length=64)
        schema.add_field("day", DataType.VARCHAR, max_length=16)
        schema.add_field("source", DataType.VARCHAR, max_length=MAX_VARCHAR)
        schema.add_field("gen_added", DataType.INT64)
        schema.add_field("gen_removed", DataType.INT64)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["terms"], output_field_names=["sparse"]))
        c.create_collection(self.physical, schema=schema, index_params=self._index_params(c, kind, bm25),
                            consistency_level="Strong")
        _loaded.add((self.uri, self.physical))

    def _index_params(self, c: MilvusClient, kind: str, bm25: Bm25Params, dense_only: bool = False):  # noqa: ANN202
        # pymilvus sends `params` as flat key-value pairs, which a Milvus server reads; Milvus Lite 3.2.2
        # reads only a JSON `params` pair and silently used its defaults (BM25 k1=1.5, b=0.75: measured,
        # tests/store/test_milvus_bm25_params.py), so for Lite the parameters go nested.
        def tuned(values: dict) -> dict:
            return {"params": values} if is_lite(self.uri) else values

        params = c.prepare_index_params()
        if kind == "hnsw":
            params.add_index(field_name="vector", index_type="HNSW", metric_type="IP",
                             params=tuned({"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}))
        else:
            params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
        if not dense_only:
            params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                             params=tuned({"bm25_k1": bm25.k1, "bm25_b": bm25.b}))
        return params


def _index_type(kind: str) -> str:
    return "HNSW" if kind == "hnsw" else "FLAT"
