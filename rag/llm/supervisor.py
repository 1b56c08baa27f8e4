"""Glue between the managed llama.cpp server and the answerer: start it, point Settings at it.

The answerer never knows it talks to a local model beyond `settings.local_llm` (which selects the
small-model prompt and decoding budget): it reaches the server through the same `openai` client
and `llm_base_url` it uses for OpenAI, vLLM or Ollama.

    with local_llm_session(settings) as local:   # the server stops when the block ends
        assistant = Assistant(local)

The product itself never starts it here: RagService does, through rag/service/local_model.py (a
server's model supervised by LocalLLMSupervisor); benchmarks and tests use these pieces directly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from rag.llm.server import (
    DEFAULT_MODEL_ALIAS,
    LocalLLMServer,
    LocalLLMStartError,
    LocalLLMUnavailable,
    describe_exit,
    require_local_llm,
)
from rag.settings import Settings

# The server never checks a key, but the openai client refuses to start without one.
LOCAL_API_KEY = "local"
# The reader was trained on 32k tokens; our prompts stay under ~600, so 2048 leaves room and keeps the KV cache small.
LOCAL_N_CTX = 2048
# How long an answer whose endpoint call failed waits for a dying server's exit status (only such answers
# wait: a reply that was merely unverifiable also falls back, from a healthy server, and must not pay it).
EXIT_GRACE_S = 0.5
# How often the supervisor checks that the model server is alive (a poll() on the child: free).
WATCH_INTERVAL_S = 0.5
log = logging.getLogger("rag.local_llm")


def start_local_llm(settings: Settings, port: int | None = None) -> LocalLLMServer:
    """A LocalLLMServer (not yet started: use it as a context manager) configured from settings.

    `port=None` uses settings.local_llm_port; 0 lets the OS pick a free port (tests, one-shot CLI).
    The model is settings.reader_gguf (RAG_READER_GGUF) when set, else the packaged reader.
    """
    own = settings.reader_gguf.expanduser() if settings.reader_gguf is not None else None
    return LocalLLMServer(
        model_path=own,
        model_alias=own.stem if own is not None else DEFAULT_MODEL_ALIAS,
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
            "llm_temperature": 0.0,  # reproducible answers; a small model only gets worse with sampling
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
    server = start_local_llm(settings, port)
    require_local_llm(server.model_path)
    with server:
        yield local_llm_settings(settings, server)


@dataclass
class ModelFailure:
    """One death of the model server, as /readyz and answers' notes report it."""

    at: float  # time.monotonic() when the watcher saw it
    wall_time: str  # ISO 8601 UTC, for people reading /readyz
    cause: str  # "was killed by SIGILL (...)" / "exited with code 1"
    restarted: bool = False
    restart_error: str | None = None


class LocalLLMSupervisor:
    """Watches the managed model server: a death is logged, reported, and restarted once.

    Without it a crashed model (SIGILL, out of memory, a kill) turned every llm/hybrid answer into a
    silent extractive fallback while the API still said it was ready. The watcher polls the child's
    return code (no HTTP, so it costs nothing); after `max_restarts` restarts it stops trying, the
    readiness report says so, and answers carry a note until an operator restarts the server.
    """

    def __init__(self, server: LocalLLMServer, max_restarts: int = 1, poll_s: float = WATCH_INTERVAL_S) -> None:
        self.server = server
        self.max_restarts = max_restarts
        self.poll_s = poll_s
        self.restarts = 0
        self.failures: list[ModelFailure] = []
        self.state = "stopped"  # stopped | ready | restarting | dead
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> LocalLLMSupervisor:
        self.server.start()  # ready only after a real completion (LocalLLMServer._probe_completion)
        self.state = "ready"
        self._stop.clear()
        self._watcher = threading.Thread(target=self._watch, name="local-llm-watcher", daemon=True)
        self._watcher.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(timeout=self.server.stop_grace_s + self.server.startup_timeout_s)
        self.server.stop()
        self.state = "stopped"

    def __enter__(self) -> LocalLLMSupervisor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def status(self) -> dict[str, object]:
        """What /readyz shows: state, pid, restarts, and every failure seen."""
        with self._lock:
            return {
                "state": self.state,
                "running": self.server.running,
                "pid": self.server.pid,
                "base_url": self.server.base_url if self.state != "stopped" else None,
                "restarts": self.restarts,
                "failures": [asdict(f) for f in self.failures],
                "log": str(self.server.log_path) if self.server.log_path else None,
            }

    def notes_since(self, started: float, endpoint_failed: bool = False) -> list[str]:
        """Notes for an answer begun at `started` (time.monotonic()): the model died, or is down.
        `endpoint_failed`: the answer's model call failed (`AnswerDiagnostics.endpoint_failed`)."""
        with self._lock:
            recent = [f for f in self.failures if f.at >= started]
            state = self.state
        # Dead but not yet seen by the watcher (it polls every poll_s): an answer that fell back
        # sooner than that must still say why. The client sees the connection drop when the dying
        # process closes its sockets, a moment before its exit status can be read; on a loaded machine
        # that moment outlasted the fallback, and the answer gave no cause. So a failed call waits for it.
        unseen = None
        if state == "ready" and not recent:
            unseen = self.server.exit_code
            if unseen is None and endpoint_failed:
                unseen = self.server.wait_exit(EXIT_GRACE_S)
        notes = []
        if unseen is not None:
            after = "it is being restarted" if self.restarts < self.max_restarts else "it is not restarted again"
            notes.append(f"The local model server {describe_exit(unseen)} while this answer was being written; {after}.")
        for failure in recent:
            after = ("it was restarted" if failure.restarted else
                     f"restarting it failed ({failure.restart_error})" if failure.restart_error else "it is being restarted")
            notes.append(f"The local model server {failure.cause} while this answer was being written; {after}.")
        if not recent and state in ("dead", "restarting"):
            notes.append("The local model server is not running (see /readyz); generated answers fall back "
                         "to extracted ones until it is restarted.")
        return notes

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            code = self.server.exit_code
            if code is None or self.state != "ready":
                continue
            self._on_death(code)

    def _on_death(self, code: int) -> None:
        failure = ModelFailure(at=time.monotonic(), wall_time=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               cause=describe_exit(code))
        with self._lock:
            self.failures.append(failure)
            self.state = "restarting" if self.restarts < self.max_restarts else "dead"
        log.error("The local model server (pid %s) %s. Log tail (%s):\n%s", self.server.pid, failure.cause,
                  self.server.log_path, self.server.log_tail(1500))
        if self.state == "dead":
            log.error("Not restarting the local model server again (%d restart(s) already); "
                      "llm/hybrid answers fall back to extracted ones until `rag serve --local-llm` is restarted.",
                      self.restarts)
            self.server.stop()
            return
        self.server.stop()  # reap it and sweep its process group
        self.restarts += 1
        self.server.die_with_starting_thread = True  # this thread lives until stop()
        try:
            self.server.start()
        except (LocalLLMStartError, LocalLLMUnavailable, OSError) as e:
            with self._lock:
                failure.restart_error = str(e).splitlines()[0]
                self.state = "dead"
            log.error("Restarting the local model server failed: %s", e)
            return
        with self._lock:
            failure.restarted = True
            self.state = "ready" if not self._stop.is_set() else "stopped"
        log.warning("The local model server was restarted (pid %s, %s).", self.server.pid, self.server.base_url)
