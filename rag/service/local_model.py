"""The local reader model as the service runs it: started, supervised and stopped in one place.

Front ends only say that they want it (`rag serve --local-llm`, `rag ask --local-llm`,
RAG_LOCAL_LLM): RagService calls `start()` before its first answer (a server calls it at once),
answers through the Settings it returns (the answerer sees one more OpenAI-compatible endpoint),
reads `notes_since()` and `status()` for answers' notes and /readyz, and `stop()` when it closes.

A server's model is supervised (rag/llm/supervisor.py: a death is logged, shown by /readyz and in
answers' notes, and restarted once) on RAG_LOCAL_LLM_PORT; a one-shot command's model gets a free
port, so it never collides with a server running beside it, and lives only for that command.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from rag.llm.server import LocalLLMServer, LocalLLMStartError, LocalLLMUnavailable, require_local_llm
from rag.llm.supervisor import LocalLLMSupervisor, local_llm_settings, start_local_llm
from rag.service.errors import ServiceError
from rag.settings import Settings

log = logging.getLogger("rag.service.local_model")
MEMINFO = Path("/proc/meminfo")


class LocalModelError(ServiceError):
    """The local model could not start: not installed (the message says what to run) or it failed (its log tail)."""

    code = "local_llm_unavailable"


def available_memory_gib(meminfo: Path = MEMINFO) -> float | None:
    """MemAvailable from /proc/meminfo in GiB (what the kernel can hand out without swapping); None off Linux."""
    try:
        for line in meminfo.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20  # the kernel reports kB
    except (OSError, ValueError, IndexError):
        return None
    return None


def memory_verdict(need_gib: float | None, meminfo: Path = MEMINFO) -> tuple[bool, str]:
    """(start it?, the sentence that says why) for a model that needs `need_gib` GiB free (None = no check)."""
    if need_gib is None:
        return True, "no memory check asked for"
    have = available_memory_gib(meminfo)
    if have is None:
        return True, f"MemAvailable is unreadable here ({meminfo}), so the {need_gib:g} GiB check is skipped"
    sign = ">=" if have >= need_gib else "<"
    return have >= need_gib, f"MemAvailable {have:.1f} GiB {sign} {need_gib:g} GiB (RAG_LOCAL_LLM_MIN_MEMORY_GIB)"


class LocalModel:
    """The service's local model: absent until `start()`, which is idempotent and thread-safe."""

    def __init__(self, supervised: bool, meminfo: Path = MEMINFO) -> None:
        self.supervised = supervised  # a long-running server: watched and restarted once
        self.meminfo = meminfo
        self.message = "the local model is off"  # what happened, for a front end to print
        self._supervisor: LocalLLMSupervisor | None = None
        self._server: LocalLLMServer | None = None
        self._settings: Settings | None = None  # what answers use while the model runs
        self._owned = True  # stop() stops only what start() started
        self._lock = threading.Lock()

    @classmethod
    def adopt(cls, supervisor: LocalLLMSupervisor) -> LocalModel:
        """A model already running under `supervisor` (tests, benchmarks); the service reports it, never stops it."""
        model = cls(supervised=True)
        model._supervisor, model._server, model._owned = supervisor, supervisor.server, False
        return model

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self, settings: Settings) -> Settings:
        """The settings to answer with: `settings` itself unless they ask for the local model, else
        settings pointing at the started model (or, when memory is short, settings without it)."""
        with self._lock:
            if self._settings is not None:  # decided once; one model for every collection a process serves,
                if settings.collection == self._settings.collection:  # each with its own settings pointed at it
                    return self._settings
                return self._answering(settings)
            if self._server is not None:  # adopted: already running
                self._settings = local_llm_settings(settings, self._server)
                return self._settings
            if not settings.local_llm:
                return settings
            ok, why = memory_verdict(settings.local_llm_min_memory_gib, self.meminfo)
            if not ok:
                self.message = f"Not starting the local model: {why}; answers are extracted from the documents."
                log.warning(self.message)
                self._settings = settings.model_copy(update={"local_llm": False})
                return self._settings
            self._settings = self._launch(settings, why)
            return self._settings

    def _answering(self, settings: Settings) -> Settings:
        """`settings` as the started (or, for lack of memory, skipped) model answers with them."""
        if self._server is not None:
            answering = local_llm_settings(settings, self._server)
            return settings if answering == settings else answering  # the same object: nothing to rebuild
        return settings.model_copy(update={"local_llm": False}) if settings.local_llm else settings

    def _launch(self, settings: Settings, why: str) -> Settings:
        # port 0 for one-shot commands: a `rag serve --local-llm` may hold RAG_LOCAL_LLM_PORT.
        server = start_local_llm(settings, port=None if self.supervised else 0)
        try:
            require_local_llm(server.model_path)
            if self.supervised:
                self._supervisor = LocalLLMSupervisor(server).start()
            else:
                server.start()
        except LocalLLMUnavailable as e:
            raise LocalModelError(str(e)) from None
        except LocalLLMStartError as e:
            raise LocalModelError(str(e), code="local_llm_failed") from None
        self._server = server
        answering = local_llm_settings(settings, server)
        self.message = (f"Local model ready at {server.base_url} ({server.model_alias}; answered a test completion; "
                        f"answer mode auto = {answering.auto_mode}; {why}).")
        log.info(self.message)
        return answering

    def stop(self) -> None:
        """Stop the model this object started (safe to call twice); a later start() starts it again."""
        with self._lock:
            if not self._owned:
                return
            supervisor, server = self._supervisor, self._server
            self._supervisor = self._server = self._settings = None
        if supervisor is not None:
            supervisor.stop()
        elif server is not None:
            server.stop()

    def status(self) -> dict[str, object] | None:
        """What /readyz shows under `local_llm` (state, pid, restarts, failures), or None without a supervised model."""
        return self._supervisor.status() if self._supervisor is not None else None

    def notes_since(self, started: float, endpoint_failed: bool = False) -> list[str]:
        """Notes for an answer begun at `started` (time.monotonic()): the model died while it was written, or is down."""
        return self._supervisor.notes_since(started, endpoint_failed) if self._supervisor is not None else []
