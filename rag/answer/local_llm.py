"""Glue between the managed llama.cpp server and the answerer: start it, point Settings at it.

The answerer never knows it talks to a local model beyond `settings.local_llm` (which selects the
small-model prompt and decoding budget): it reaches the server through the same `openai` client
and `llm_base_url` it uses for OpenAI, vLLM or Ollama.

    with local_llm_session(settings) as local:   # the server stops when the block ends
        assistant = Assistant(local)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rag.answer.local_server import LocalLLMServer, require_local_llm
from rag.settings import Settings

# The server never checks a key, but the openai client refuses to start without one.
LOCAL_API_KEY = "local"
# SmolLM2 was trained on 8k tokens; our prompts stay under ~600, so 2048 leaves room and saves memory.
LOCAL_N_CTX = 2048


def start_local_llm(settings: Settings, port: int | None = None) -> LocalLLMServer:
    """A LocalLLMServer (not yet started: use it as a context manager) configured from settings.

    `port=None` uses settings.local_llm_port; 0 lets the OS pick a free port (tests, one-shot CLI).
    """
    return LocalLLMServer(
        host="127.0.0.1",  # the model server is ours alone: never reachable from outside
        port=settings.local_llm_port if port is None else port,
        n_ctx=LOCAL_N_CTX,
        n_threads=settings.local_llm_threads,
    )


def local_llm_settings(settings: Settings, server: LocalLLMServer) -> Settings:
    """Settings whose answerer talks to the running `server` with small-model prompts and budget."""
    return settings.model_copy(
        update={
            "llm_base_url": server.base_url,
            "llm_model": server.model_alias,
            "llm_api_key": LOCAL_API_KEY,
            "local_llm": True,
            "auto_mode": settings.local_llm_auto_mode,  # measured for this model, unlike a remote endpoint's
            "llm_temperature": 0.0,  # reproducible answers; a 135M model only gets worse with sampling
            "llm_timeout_s": settings.local_llm_timeout_s,
            "llm_max_retries": 0,  # a CPU-bound server that timed out once will time out again
        }
    )


@contextmanager
def local_llm_session(settings: Settings, port: int | None = None) -> Iterator[Settings]:
    """Start the bundled model, yield Settings pointing at it, stop it on exit (also on errors).

    Raises LocalLLMUnavailable (with install advice) before anything starts when llama.cpp or the
    GGUF is missing, and LocalLLMStartError (with the server's log tail) when it fails to come up.
    """
    require_local_llm()
    with start_local_llm(settings, port) as server:
        yield local_llm_settings(settings, server)
