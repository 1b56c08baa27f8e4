"""Chinese documents with the real reader (Qwen2.5-Coder-1.5B in the real llama.cpp server on 127.0.0.1):
a Chinese question answered with the verbatim Chinese quote, and an English question over the same
documents searched in Chinese (rag/answer/translate.py) and answered from the Chinese sentence.

The collection is five real articles of ../shared/corpus/crud-news-zh/docs.txt.xz indexed with the
default settings, so it also checks that a Han collection picks the multilingual encoder."""

from __future__ import annotations

import importlib.util
import lzma
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.llm.server import LocalLLMServer
from rag.llm.supervisor import local_llm_settings, start_local_llm
from rag.models import AnswerMode, AskRequest
from rag.service.core import RagService
from rag.settings import MULTILINGUAL_MODEL, Settings

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                       reason="llama-cpp-python is not installed: run `make local-llm`"),
]
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "crud-news-zh" / "docs.txt.xz"
LINES = 5  # line 2 is the China-South Africa trade fair in Johannesburg


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RagService]:
    assert CORPUS.is_file(), f"the Chinese news corpus is missing: {CORPUS}"
    with lzma.open(CORPUS, "rt", encoding="utf-8") as f:
        head = "".join(next(f) for _ in range(LINES))
    folder = tmp_path_factory.mktemp("zh")
    (folder / "news.txt.xz").write_bytes(lzma.compress(head.encode("utf-8")))
    settings = Settings(index_dir=tmp_path_factory.mktemp("index"), collection="zh")
    RagService(settings).index([folder], progress=False)
    server: LocalLLMServer = start_local_llm(settings, port=0)
    with server:
        svc = RagService(local_llm_settings(settings, server))
        yield svc
        svc.close()


def test_a_chinese_collection_gets_the_multilingual_encoder(service: RagService) -> None:
    assert service.collection.manifest().model == MULTILINGUAL_MODEL


def test_a_chinese_question_is_answered_with_the_verbatim_chinese_quote(service: RagService) -> None:
    ans = service.ask(AskRequest(question="中国和南非的企业贸易对接会在哪个城市举行？", mode=AnswerMode.READ))
    assert not ans.refused, ans
    assert "约翰内斯堡" in ans.answer
    article = service.assistant().article(ans.citations[0].doc_id)
    assert article is not None
    for c in ans.citations:
        assert article.text[c.start:c.end] == c.quote and "，" in article.text  # verbatim, full-width kept


def test_an_english_question_is_searched_in_chinese_and_answered_from_the_chinese_sentence(
        service: RagService) -> None:
    result = service.search("Where was the China-South Africa business matchmaking event held?", k=5)
    assert any("Searched the Chinese documents with a translation" in n for n in result.notes), result.notes
    assert any("约翰内斯堡" in h.passage.text for h in result.hits)
    ans = service.ask(AskRequest(question="Where was the China-South Africa business matchmaking event held?",
                                 mode=AnswerMode.READ))
    assert not ans.refused, ans
    assert "约翰内斯堡" in ans.answer
