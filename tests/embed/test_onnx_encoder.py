"""The ONNX Runtime encoder against torch fp32 on real sample text: same vectors, same token counts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.chunk.chunker import Chunker
from rag.chunk.sentences import split_chunk_sentences
from rag.embed.factory import make_encoder
from rag.embed.onnx_encoder import OnnxEncoder
from rag.embed.protocols import FAMILY_INT8, FAMILY_INT8_ALL, DocumentEncoder, EncoderIdentity, QueryEncoder, TokenCounter
from rag.embed.torch_encoder import TorchEncoder
from rag.ingest.discover import load_paths
from rag.settings import DEFAULT_MODEL, Settings
from tests.conftest import SAMPLE, SEEDS

MIN_COSINE = 0.9999


@pytest.fixture(scope="module")
def torch_fp32() -> TorchEncoder:
    return TorchEncoder(precision="fp32")


@pytest.fixture(scope="module")
def sample_texts(embedder) -> list[str]:
    """What the product embeds: chunk inputs (title prefix), their sentences, and real questions."""
    articles = load_paths([SAMPLE]).articles
    chunker = Chunker(embedder.count_tokens_batch, embedder.max_tokens)
    by_id = {a.doc_id: a for a in articles}
    chunks = chunker.chunk_many(articles)
    inputs = [chunker.embedding_text(by_id[c.doc_id], c) for c in chunks]
    sentences = [c.text[s:e] for c in chunks for s, e in split_chunk_sentences(c.text)]
    questions = [json.loads(line)["question"] for line in SEEDS.read_text().splitlines() if line.strip()]
    assert len(inputs) > 40 and len(sentences) > 150 and len(questions) >= 15
    return inputs + sentences + questions


def test_onnx_vectors_equal_torch_fp32(onnx_encoder: OnnxEncoder, torch_fp32: TorchEncoder, sample_texts):
    a = onnx_encoder.encode(sample_texts)
    b = torch_fp32.encode(sample_texts)
    cos = np.sum(a * b, axis=1)
    assert a.shape == b.shape == (len(sample_texts), 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert cos.min() >= MIN_COSINE, sample_texts[int(cos.argmin())]
    # One at a time (the query path: no padding) gives the same vectors as a padded batch.
    for text, vec in zip(sample_texts[-20:], a[-20:]):
        assert float(onnx_encoder.encode_query(text) @ vec) >= MIN_COSINE


def test_token_counts_equal_the_torch_tokenizer(onnx_encoder: OnnxEncoder, torch_fp32: TorchEncoder, sample_texts):
    embedder = torch_fp32
    long = " ".join(sample_texts[:5])  # over 256 word pieces: counting never truncates
    texts = [*sample_texts, long, ""]
    assert onnx_encoder.count_tokens_batch(texts) == embedder.count_tokens_batch(texts)
    assert onnx_encoder.count_tokens(long) > onnx_encoder.max_tokens == embedder.max_tokens == 256


def test_both_encoders_satisfy_the_protocols(onnx_encoder, torch_fp32, embedder):
    for enc in (onnx_encoder, torch_fp32, embedder):
        assert isinstance(enc, TokenCounter) and isinstance(enc, QueryEncoder) and isinstance(enc, DocumentEncoder)
    # The default document encoder (RAG_EMBED_QUANTIZATION=auto) makes int8-all vectors, a family of its own.
    assert embedder.identity.family == FAMILY_INT8_ALL and embedder.identity.compat_key != torch_fp32.identity.compat_key
    embedder = torch_fp32
    for enc in (onnx_encoder, embedder):
        assert isinstance(enc, TokenCounter) and isinstance(enc, QueryEncoder) and isinstance(enc, DocumentEncoder)
    # One vector family: a collection built by either may be queried by the other, with one cache.
    assert onnx_encoder.identity.compat_key == embedder.identity.compat_key
    assert onnx_encoder.cache_key("x") == embedder.cache_key("x")
    int8 = EncoderIdentity(DEFAULT_MODEL, "onnx", "int8", FAMILY_INT8)
    assert int8.compat_key != embedder.identity.compat_key and int8.cache_key("x") != embedder.cache_key("x")


def test_factory_uses_onnx_for_questions_when_exported(onnx_encoder_dir, tmp_path):
    exported = Settings(encoder_dir=onnx_encoder_dir, embed_quantization="none")  # the fp family
    assert isinstance(make_encoder(exported, "query"), OnnxEncoder)
    assert isinstance(make_encoder(exported.model_copy(update={"embed_backend": "torch"}), "query"), TorchEncoder)
    # Not exported (yet): questions still work, through torch.
    none = Settings(encoder_dir=tmp_path / "none", embed_quantization="none")
    assert isinstance(make_encoder(none, "query"), TorchEncoder)
    # fp indexing is torch (bulk bf16 where the CPU has it); the default (auto) indexes with int8-all ONNX.
    assert isinstance(make_encoder(exported, "document"), TorchEncoder)
    default = make_encoder(Settings(encoder_dir=onnx_encoder_dir), "document")
    assert isinstance(default, OnnxEncoder) and default.identity.family == FAMILY_INT8_ALL


def test_server_measures_both_backends_and_keeps_the_faster(onnx_encoder_dir):
    enc = make_encoder(Settings(encoder_dir=onnx_encoder_dir, embed_quantization="none"), "server")  # fp: torch is a candidate
    assert enc.wait(timeout=120)
    report = enc.report
    assert report["measured"] is True, report
    timed = {label: report[f"{label}_ms"] for label in ("onnx", "onnx-spin", "torch")}
    fastest = min(timed, key=lambda label: timed[label])
    assert report["serving"] == fastest and enc.identity.backend == fastest.split("-")[0], report
    assert enc.encode_query("Who chaired the meeting?").shape == (384,)


def test_spinning_session_serves_only_a_lone_question(onnx_encoder):
    """Concurrent questions go to the parked-threads session: spinning threads must not fight each other."""
    import threading
    import time

    from rag.embed.measured import SpinWhenAlone

    used: list[str] = []

    class Tagged:  # the real encoder, observed: which session served each call
        def __init__(self, name: str, gate: threading.Event | None = None) -> None:
            self.name, self.gate = name, gate
            self.identity, self.dim = onnx_encoder.identity, onnx_encoder.dim

        def encode_query(self, text: str):  # noqa: ANN202
            used.append(self.name)
            if self.gate is not None:
                self.gate.wait(10)
            return onnx_encoder.encode_query(text)

    gate = threading.Event()
    enc = SpinWhenAlone(Tagged("spinning", gate), Tagged("shared"))
    first = threading.Thread(target=enc.encode_query, args=("Who chaired the meeting?",))
    first.start()
    while not used:
        time.sleep(0.001)
    assert enc.encode_query("When does the expo open?").shape == (384,)  # while the first still runs
    gate.set()
    first.join()
    assert used == ["spinning", "shared"]
    enc.encode_query("Alone again?")
    assert used[-1] == "spinning"


@pytest.mark.slow
@pytest.mark.parametrize(("quantization", "family", "min_cos"), [("int8", FAMILY_INT8, 0.98), ("int8-all", FAMILY_INT8_ALL, 0.96)])
def test_int8_is_its_own_vector_family(onnx_encoder_dir, torch_fp32: TorchEncoder, sample_texts, tmp_path,
                                       quantization: str, family: str, min_cos: float):
    from rag.pipeline.indexer import index_paths
    from rag.store.collection import Collection
    from rag.store.manifest import IncompatibleIndex

    settings = Settings(encoder_dir=onnx_encoder_dir, embed_quantization=quantization, index_dir=tmp_path, collection="q")
    enc = make_encoder(settings, "document")
    assert isinstance(enc, OnnxEncoder) and enc.identity.family == family
    texts = sample_texts[-60:]
    bulk = enc.encode(texts)
    cos = np.sum(bulk * torch_fp32.encode(texts), axis=1)
    # One text per run: a vector never depends on the other texts of an indexing batch (dynamic
    # quantisation scales by the run's range), so a stored sentence equals the same text as a question.
    assert np.array_equal(bulk, np.stack([enc.encode_query(t) for t in texts]))
    # measured on sample sentences: int8 min 0.993, int8-all lower; quality is measured on SciFact (README)
    assert cos.min() >= min_cos
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Tea\n\nThe Songjiang tea harvest reached 42 tonnes. Prices held.\n")
    index_paths([docs], settings, embedder=enc)
    with Collection(settings.collection_dir).open_snapshot() as snap:
        assert snap.manifest.encoder_family == family
        assert make_encoder(settings.model_copy(update={"embed_quantization": "none"}), "query",
                            snap.manifest).identity.family == family  # queries follow the collection
        # The server times a spinning session of the same int8 file against the parked one; never torch.
        server = make_encoder(settings.model_copy(update={"embed_quantization": "none"}), "server", snap.manifest)
        assert server.wait(timeout=120)
        assert server.report["measured"] is True and set(server.report) >= {"onnx_ms", "onnx-spin_ms"}, server.report
        assert "torch_ms" not in server.report and server.identity.family == family
        assert np.allclose(server.encode_query("tea harvest"), enc.encode_query("tea harvest"), atol=1e-6)
    with pytest.raises(IncompatibleIndex, match="int8"):
        index_paths([docs], settings.model_copy(update={"embed_quantization": "none"}))
    (docs / "b.md").write_text("# Rice\n\nThe rice harvest reached 12 tonnes.\n")
    report = index_paths([docs], settings.model_copy(update={"embed_quantization": "auto"}))  # auto: the collection's own
    assert report.documents_added == 1 and report.manifest.encoder_family == family
    other = "int8" if quantization == "int8-all" else "int8-all"  # the two int8 families never mix either
    with pytest.raises(IncompatibleIndex, match=other):
        index_paths([docs], settings.model_copy(update={"embed_quantization": other}))


def test_token_batches_bound_rows_and_padded_tokens():
    from rag.embed.onnx_encoder import token_batches

    lengths = [256, 250, 200, 100, 100, 100, 40, 40, 3]  # sorted longest first, as encode() sorts them
    got = token_batches(lengths, max_rows=4, max_tokens=512)
    assert [list(r) for r in got] == [[0, 1], [2, 3], [4, 5, 6, 7], [8]]
    for r in got:
        assert len(r) <= 4 and (len(r) == 1 or len(r) * lengths[r.start] <= 512)
    assert [list(r) for r in token_batches([900, 10], 64, 512)] == [[0], [1]]  # one over-long input still gets a batch
    assert token_batches([], 64, 512) == []


def test_token_batching_leaves_fp32_vectors_unchanged(onnx_encoder, sample_texts):
    """Batch composition is padding only: fp32 vectors equal those of one text at a time."""
    texts = sample_texts[:40]
    small = onnx_encoder.encode(texts)
    alone = np.stack([onnx_encoder.encode_query(t) for t in texts])
    assert np.sum(small * alone, axis=1).min() >= 0.99999


@pytest.mark.parametrize("precision", ["fp32", FAMILY_INT8_ALL])
def test_side_by_side_bulk_sessions_give_the_one_session_vectors(onnx_encoder_dir, sample_texts, precision):
    """Indexing runs one single-threaded session per thread, each on whole batches: the batches are the
    ones a single session would run, so the vectors are equal, int8's per-batch scales included."""
    from rag.embed.factory import onnx_encoder

    settings = Settings(encoder_dir=onnx_encoder_dir, embed_batch_tokens=512)
    side = onnx_encoder(settings.model_copy(update={"onnx_threads": 2, "onnx_bulk_sessions": 2}), DEFAULT_MODEL, precision, True)
    one = onnx_encoder(settings.model_copy(update={"onnx_threads": 2, "onnx_bulk_sessions": 1}), DEFAULT_MODEL, precision, True)
    assert len(side._bulk) == 2 and one._bulk_n == 1
    got, want = side.encode(sample_texts), one.encode(sample_texts)
    assert np.array_equal(got, want)
