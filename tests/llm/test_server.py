"""LocalLLMServer: the real llama.cpp server with the real reader model (Qwen2.5-Coder-1.5B GGUF), driven by the openai client."""

from __future__ import annotations

import importlib.util
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from openai import OpenAI

from rag.llm.server import (
    LocalLLMServer,
    LocalLLMStartError,
    LocalLLMUnavailable,
    default_model_path,
    local_llm_available,
)
from rag.net import free_port

# `make test` installs the local-llm extra, so these run in CI; skipping is only for a
# developer venv made with plain `pip install -e .[test]`.
needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python is not installed: run `make local-llm`",
)
server_test = [pytest.mark.llm, needs_llama]

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def server() -> Iterator[LocalLLMServer]:
    # One start for the module: loading the model costs seconds.
    with LocalLLMServer(n_ctx=2048) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: LocalLLMServer) -> OpenAI:
    return OpenAI(base_url=server.base_url, api_key="local", timeout=60, max_retries=0)


@pytest.mark.parametrize("bad", [{"port": -1}, {"port": 70000}, {"n_threads": 0}, {"startup_timeout_s": 0}])
def test_rejects_bad_arguments(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        LocalLLMServer(**bad)  # type: ignore[arg-type]


def test_base_url_before_start_says_what_to_do() -> None:
    with pytest.raises(RuntimeError, match="start"):
        _ = LocalLLMServer().base_url


def test_missing_gguf_gives_install_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An empty cache: the packaged reader model was never fetched.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(LocalLLMUnavailable, match="make reader-model") as info:
        default_model_path()
    assert "RAG_READER_GGUF" in str(info.value)
    assert not local_llm_available()
    with pytest.raises(LocalLLMUnavailable, match="make reader-model"):
        LocalLLMServer().start()
    with pytest.raises(LocalLLMUnavailable, match="RAG_READER_GGUF"):  # a user's own file that is not there
        LocalLLMServer(model_path=tmp_path / "mine.gguf").start()


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_dead_endpoint_fails_fast(kind: str) -> None:
    # The answerer's fallback relies on this: a dead endpoint costs at most the timeout.
    with socket.socket() as listener:
        if kind == "silent":  # accepts TCP connections but never answers
            listener.bind(("127.0.0.1", 0))
            listener.listen(8)
            port = listener.getsockname()[1]
        else:
            port = free_port()
        dead = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="local", timeout=2, max_retries=0)
        started = time.monotonic()
        with pytest.raises(openai.APIConnectionError):  # APITimeoutError is a subclass
            dead.chat.completions.create(model="any", messages=QUESTION, max_tokens=8)
        assert time.monotonic() - started < 3.0


class TestRunningServer:
    pytestmark = server_test

    def test_model_is_installed(self) -> None:
        path = default_model_path()
        assert path.suffix == ".gguf" and path.stat().st_size > 10_000_000
        assert local_llm_available()

    def test_lists_its_alias(self, server: LocalLLMServer, client: OpenAI) -> None:
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        assert [m.id for m in client.models.list()] == [server.model_alias]

    def test_chat_completion(self, server: LocalLLMServer, client: OpenAI) -> None:
        response = client.chat.completions.create(
            model=server.model_alias, messages=QUESTION, max_tokens=32, temperature=0
        )
        text = response.choices[0].message.content or ""
        assert len(text.strip()) > 0
        assert response.usage is not None and 0 < response.usage.completion_tokens <= 32
        # The GGUF's chat template is applied: no raw ChatML markers leak into the answer.
        assert "<|im_start|>" not in text and "<|im_end|>" not in text

    def test_temperature_zero_is_reproducible(self, server: LocalLLMServer, client: OpenAI) -> None:
        texts = {
            client.chat.completions.create(
                model=server.model_alias, messages=QUESTION, max_tokens=16, temperature=0
            ).choices[0].message.content
            for _ in range(2)
        }
        assert len(texts) == 1

    def test_streaming_chat_completion(self, server: LocalLLMServer, client: OpenAI) -> None:
        stream = client.chat.completions.create(
            model=server.model_alias, messages=QUESTION, max_tokens=32, temperature=0, stream=True
        )
        pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
        assert sum(1 for piece in pieces if piece) >= 2  # really streamed, not one blob
        assert len("".join(pieces).strip()) > 0


@pytest.mark.llm
@needs_llama
def test_server_is_gone_after_normal_exit() -> None:
    with LocalLLMServer() as running:
        pid, port = running.pid, running.port
        assert pid is not None and _alive(pid) and _listening(port)
    assert not _alive(pid) and not _listening(port)
    running.stop()  # a second stop is harmless


@pytest.mark.llm
@needs_llama
def test_server_is_gone_when_body_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stray llama_cpp.server settings in the environment must not reach the child:
    # PORT would override --port, API_KEY would make it reject our requests.
    monkeypatch.setenv("PORT", str(free_port()))
    monkeypatch.setenv("API_KEY", "not-ours")
    pid = None
    with pytest.raises(KeyError, match="boom"):
        with LocalLLMServer(n_threads=1, startup_timeout_s=30) as running:
            pid = running.pid
            reply = OpenAI(base_url=running.base_url, api_key="local", timeout=60, max_retries=0).chat.completions.create(
                model=running.model_alias, messages=QUESTION, max_tokens=4
            )
            assert reply.choices[0].message.content is not None
            raise KeyError("boom")
    assert pid is not None and not _alive(pid)


@pytest.mark.llm
@needs_llama
def test_bad_model_file_fails_with_log_tail(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"this is not a gguf file" * 100)
    server = LocalLLMServer(model_path=broken, startup_timeout_s=60)
    with pytest.raises(LocalLLMStartError, match="exited with code") as info:
        server.start()
    assert "broken.gguf" in str(info.value)  # the server's log tail names the file it choked on
    assert server.pid is None and not server.running


@pytest.mark.llm
@needs_llama
def test_port_in_use_fails_clearly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        server = LocalLLMServer(port=taken.getsockname()[1], startup_timeout_s=60)
        with pytest.raises(LocalLLMStartError):
            server.start()
        assert not server.running
