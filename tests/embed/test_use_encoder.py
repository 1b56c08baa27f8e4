"""The multilingual encoder (packaged USE ONNX) and the choice of encoder for a new collection, on real files."""

from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import pytest

from rag.chunk.chunker import Chunker
from rag.embed.choice import MODEL_CHUNKING, is_han_majority, settings_for_collection
from rag.embed.factory import has_onnx, make_encoder
from rag.embed.protocols import (
    FAMILY_INT8_ALL,
    FAMILY_PACKAGED,
    DocumentEncoder,
    EncoderUnavailable,
    QueryEncoder,
    TokenCounter,
)
from rag.embed.use_encoder import USE_DIM, UseEncoder, use_model_path
from rag.models import Article
from rag.pipeline.indexer import index_paths
from rag.settings import DEFAULT_MODEL, MULTILINGUAL_MODEL, Settings
from rag.store.collection import Collection
from rag.store.manifest import IncompatibleIndex, Manifest, load_manifest, save_manifest
from tests.conftest import SAMPLE, SHARED

ZH_CORPUS = SHARED / "corpus" / "crud-news-zh" / "docs.txt.xz"
ZH_LINES = 6  # real articles for the tiny Han folder


@pytest.fixture(scope="module")
def use() -> UseEncoder:
    return UseEncoder(threads=2)


@pytest.fixture(scope="module")
def zh_articles() -> list[str]:
    """The first corpus lines, `<prefix>，正文：<body>` each, as a user keeps them one per .txt file."""
    if not ZH_CORPUS.exists():
        pytest.fail(f"The Chinese news corpus is missing: {ZH_CORPUS}")
    with lzma.open(ZH_CORPUS, "rt", encoding="utf-8") as f:
        return [next(f).rstrip("\n") for _ in range(ZH_LINES)]


@pytest.fixture(scope="module")
def zh_folder(tmp_path_factory, zh_articles) -> Path:
    folder = tmp_path_factory.mktemp("zh") / "news"
    folder.mkdir()
    for i, line in enumerate(zh_articles):
        (folder / f"article{i}.txt").write_text(line + "\n", encoding="utf-8")
    return folder


def test_use_satisfies_the_protocols_and_normalises(use: UseEncoder):
    assert isinstance(use, DocumentEncoder) and isinstance(use, QueryEncoder) and isinstance(use, TokenCounter)
    assert use.identity.model == MULTILINGUAL_MODEL and use.identity.family == FAMILY_PACKAGED
    texts = ["共有173家企业参加了本次活动。", "173 companies took part.", "今天天气很好", "", "x" * 3000]
    vectors = use.encode(texts)
    assert vectors.shape == (len(texts), USE_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # One text per run: a text's vector does not depend on its batch, so the embedding cache, lazy sentence
    # vectors and questions agree exactly.
    for text, vec in zip(texts, vectors):
        assert np.array_equal(use.encode_query(text), vec)
    assert use.cache_key("x") != make_encoder(Settings(), "query").cache_key("x")  # its own cache namespace


@pytest.mark.parametrize(
    ("zh", "en", "unrelated"),
    [
        ("黄茅海跨海通道项目全长约31公里。", "The Huangmaohai cross-sea passage is about 31 kilometres long.",
         "The stock market fell sharply on Monday."),
        ("孙杨在个人社交媒体晒出结婚照，新娘是张豆豆。", "Sun Yang posted his wedding photos; the bride is Zhang Doudou.",
         "市场监管总局公布了食用农产品销售管理办法。"),
    ],
)
def test_a_chinese_sentence_is_closer_to_its_english_paraphrase_than_to_unrelated_text(use, zh, en, unrelated):
    v = use.encode([zh, en, unrelated])
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2, (float(v[0] @ v[1]), float(v[0] @ v[2]))


def test_token_counter_counts_the_encoders_own_pieces(use: UseEncoder, zh_articles):
    assert use.count_tokens("") == 2  # BOS and EOS, as the encoder adds them
    counts = use.count_tokens_batch(zh_articles)
    assert counts == [use.count_tokens(t) for t in zh_articles]
    assert all(len(t) / 3 < n < len(t) for t, n in zip(zh_articles, counts))  # pieces of one or a few Han characters
    long = "".join(zh_articles)
    assert use.count_tokens(long) > MODEL_CHUNKING[MULTILINGUAL_MODEL][0]  # counting never truncates
    budget, overlap = MODEL_CHUNKING[MULTILINGUAL_MODEL]
    chunker = Chunker(use.count_tokens_batch, use.max_tokens, chunk_tokens=budget, overlap_tokens=overlap)
    chunks = chunker.chunk_many([Article(source="a", text=long.split("，正文：", 1)[1])])
    assert len(chunks) > 1 and max(c.n_tokens for c in chunks) <= budget


def test_factory_gives_use_for_every_role(tmp_path):
    settings = Settings(index_dir=tmp_path, embedding_model=MULTILINGUAL_MODEL)
    for role in ("document", "query", "server"):
        assert isinstance(make_encoder(settings, role), UseEncoder)
    # With a manifest the collection's model wins over the settings' (MiniLM by default).
    manifest = Manifest.for_settings(settings, USE_DIM, identity=UseEncoder().identity)
    assert isinstance(make_encoder(Settings(index_dir=tmp_path), "query", manifest), UseEncoder)
    assert has_onnx(Settings(), MULTILINGUAL_MODEL, "fp32")  # nothing to export: `rag index` skips that step


def test_a_missing_model_file_says_make_install():
    with pytest.raises(EncoderUnavailable, match="make install"):
        use_model_path("no_such_package_for_rag_tests")
    assert use_model_path().is_file()


def test_han_folder_gets_use_and_english_keeps_minilm(tmp_path, zh_folder):
    zh = Settings(index_dir=tmp_path, collection="zh")
    report = index_paths([zh_folder], zh)
    m = report.manifest
    assert m is not None and m.documents == ZH_LINES
    assert (m.model, m.encoder_family, m.dim) == (MULTILINGUAL_MODEL, FAMILY_PACKAGED, USE_DIM)
    assert (m.chunk_tokens, m.chunk_overlap_tokens) == MODEL_CHUNKING[MULTILINGUAL_MODEL]
    # Again with the same (default) settings: the collection keeps its model, nothing is re-embedded.
    again = index_paths([zh_folder], zh)
    assert again.documents_unchanged == ZH_LINES and again.chunks_embedded == 0
    assert again.manifest is not None and again.manifest.model == MULTILINGUAL_MODEL
    # RAG_EMBED_QUANTIZATION is a MiniLM export choice: it neither changes nor refuses this collection.
    index_paths([zh_folder], zh.model_copy(update={"embed_quantization": "none"}))
    # An explicit other model is refused with the rebuild command.
    with pytest.raises(IncompatibleIndex, match="--rebuild"):
        index_paths([zh_folder], zh.model_copy(update={"embedding_model": DEFAULT_MODEL}))

    en = index_paths([SAMPLE], Settings(index_dir=tmp_path, collection="en")).manifest
    assert en is not None and (en.model, en.encoder_family) == (DEFAULT_MODEL, FAMILY_INT8_ALL)
    assert (en.chunk_tokens, en.chunk_overlap_tokens) == (200, 40)
    # Set explicitly, the model wins over the auto-pick: a Han folder indexed with MiniLM.
    forced = index_paths([zh_folder], Settings(index_dir=tmp_path, collection="zh-minilm", embedding_model=DEFAULT_MODEL))
    assert forced.manifest is not None and forced.manifest.model == DEFAULT_MODEL


def test_questions_in_chinese_and_english_find_the_chinese_article(tmp_path, zh_folder):
    from rag.service import RagService

    settings = Settings(index_dir=tmp_path, collection="zh")
    index_paths([zh_folder], settings)
    with RagService(settings) as service:
        assert isinstance(service.assistant().embedder, UseEncoder)
        for question in ("中国驻德国大使馆招待会有多少人出席？", "How many people attended the Chinese embassy reception in Germany?"):
            hits = service.search(question, k=3).hits
            assert any("约350人出席招待会" in h.passage.text for h in hits), question
        answer = service.ask("How many people attended the Chinese embassy reception in Germany?")
        # The question path runs end to end on USE vectors (lazy sentence vectors included): an answer citing
        # the Chinese article, or a refusal that shows it among the closest passages.
        assert answer.answer and (answer.citations or answer.closest), answer
        snapshot = Collection(settings.collection_dir).open_snapshot()
        try:
            assert snapshot.manifest.model == MULTILINGUAL_MODEL
        finally:
            snapshot.close()


def test_manifest_round_trip_and_the_choice_rule(tmp_path):
    use_settings = Settings(index_dir=tmp_path, embedding_model=MULTILINGUAL_MODEL, chunk_tokens=256, chunk_overlap_tokens=50)
    m = Manifest.for_settings(use_settings, USE_DIM, identity=UseEncoder().identity)
    save_manifest(tmp_path / "manifest.json", m)
    loaded = load_manifest(tmp_path / "manifest.json")
    assert loaded == m and loaded.encoder_key == f"{MULTILINGUAL_MODEL}|{FAMILY_PACKAGED}"
    # Default settings adopt the manifest's model and chunk budget; the check then accepts them.
    adopted = settings_for_collection(Settings(index_dir=tmp_path), loaded, None)
    assert (adopted.embedding_model, adopted.chunk_tokens, adopted.chunk_overlap_tokens) == (MULTILINGUAL_MODEL, 256, 50)
    loaded.check_compatible(adopted)
    # English settings and manifests pass through untouched (the same object).
    english = Settings(index_dir=tmp_path)
    assert settings_for_collection(english, None, [Article(source="a", text="Plain English text.")]) is english
    assert not is_han_majority([Article(source="a", text="An English page quoting 上海 once.")])
    assert is_han_majority([Article(source="a", text="上海市政府发布了新的住房政策 (housing policy)。")])
