"""Every command README.md shows runs for real, so a user copying one never meets a stale one.

The commands are read from README.md's ```bash blocks (one per line, `\\` continuations joined,
comments dropped), plus its ```python and ```json examples, and run in the README's order against a
real index of the bundled sample (data/sample, copied to a temporary folder that stands for
`~/docs/press`) in a temporary RAG_INDEX_DIR. Only `make run` and `make test` are left out.

What the test does beyond running a command as written:
- placeholders are filled in (`~/docs/press`, `<doc-id-or-prefix>`, `<doc-id>`, `RUN_A RUN_B`,
  `my_questions.jsonl`, `my_model.json`, the uploaded `notes.txt` / `minutes.md`); any other `<...>`
  fails the test, so a new placeholder cannot slip in unrun;
- servers (`rag serve`, `rag mcp --http`) listen on free ports of 127.0.0.1 (the README's 8000 / 8765
  are rewritten in every URL), are probed (/readyz, one question; MCP: list the tools, ask) and
  stopped here; a server lives until the next one starts, so the `curl` and Python examples after
  `rag serve` talk to it;
- `rag eval` runs get `--limit 3 --output <tmp> --no-progress`; a command that reads ../shared fails
  (never skips) naming the missing path;
- commands with `--local-llm` skip only where llama-cpp-python is not installed (`make test`
  installs it), as the local-model tests do.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.mcp_server.client_thread import run_async

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
SAMPLE = REPO / "data" / "sample"
SAMPLE_QUESTIONS = REPO / "eval" / "data" / "sample_questions.jsonl"
NOT_RUN = {"make run", "make test"}  # the two set-up commands; everything else is run
QUESTION = "How many exhibitors took part in the Old Expo?"  # answered from data/sample (002_...txt)
EVAL_LIMIT = "3"
PLACEHOLDER = re.compile(r"<[^<>\s]+>")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")
READ_TOOLS = {"search", "ask", "list_documents", "get_document"}
NEEDS_LLAMA = importlib.util.find_spec("llama_cpp") is None


@dataclass(frozen=True)
class Snippet:
    lang: str  # bash (one command) | python | json (a whole block)
    text: str
    line: int  # where it starts in README.md

    @property
    def id(self) -> str:
        first = " ".join(self.text.split())
        return f"L{self.line}:{self.lang}:{first[:60]}"


def readme_snippets() -> list[Snippet]:
    text = README.read_text(encoding="utf-8")
    found: list[Snippet] = []
    for m in FENCE.finditer(text):
        lang, body = m.group(1), m.group(2)
        first_line = text.count("\n", 0, m.start(2)) + 1
        if lang in ("python", "json"):
            found.append(Snippet(lang, body, first_line))
            continue
        if lang != "bash":
            continue
        logical, start = "", None
        for i, raw in enumerate(body.splitlines()):
            start = first_line + i if start is None else start
            if raw.rstrip().endswith("\\"):
                logical += raw.rstrip()[:-1] + " "
                continue
            logical += raw
            command = shlex.join(shlex.split(logical, comments=True))
            if command and command not in NOT_RUN:
                found.append(Snippet("bash", logical.strip(), start))
            logical, start = "", None
    return found


SNIPPETS = readme_snippets()


def test_the_readme_shows_commands_and_every_kind_is_covered():
    """The parser found the README's examples (an empty list would make this file pass vacuously)."""
    kinds = {(s.text.split()[:2] if s.lang == "bash" else [s.lang])[0] for s in SNIPPETS}
    assert len(SNIPPETS) >= 20 and {"rag", "curl", "python", "json"} <= kinds, kinds


def test_the_readme_stays_a_users_page():
    """Issue 29: at most 400 lines for users; measurements live in docs/RESULTS.md, levers in docs/DECISIONS.md."""
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= 400, f"README.md has {lines} lines: move measurements to docs/RESULTS.md, history to git"


# ---------------------------------------------------------------------------------------------- helpers
def free_port() -> int:
    from rag.net import free_port as pick

    return pick()


async def _mcp_round_trip(client) -> set[str]:
    tools = {t.name for t in (await client.list_tools()).tools}
    answer = await client.call_tool("ask", {"question": QUESTION})
    assert not answer.is_error, answer.content
    assert answer.structured_content["citations"], answer.structured_content
    return tools


def mcp_over_stdio(command: str, args: list[str], env: dict[str, str]) -> set[str]:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=command, args=args, env=env, cwd=str(REPO))

    async def main() -> set[str]:
        async with Client(params, read_timeout_seconds=180) as client:
            return await _mcp_round_trip(client)

    return run_async(main)  # type: ignore[return-value]


def mcp_over_http(url: str) -> set[str]:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def main() -> set[str]:
        async with Client(streamable_http_client(url)) as client:
            return await _mcp_round_trip(client)

    return run_async(main)  # type: ignore[return-value]


def check_tools(tools: set[str], writes: bool) -> None:
    """The README's read tools are offered, and the write tools exactly when --allow-writes was given."""
    assert READ_TOOLS <= tools, tools
    assert ({"add_documents", "delete_document"} <= tools) == writes and (("add_documents" in tools) == writes), tools


class Server:
    """A README command that serves until stopped: its own process group, its log in a file."""

    def __init__(self, command: str, env: dict[str, str], log: Path, base: str) -> None:
        self.command, self.base, self.log = command, base, log
        self.proc = subprocess.Popen(["bash", "-c", "exec " + command], cwd=REPO, env=env, start_new_session=True,
                                     stdout=log.open("wb"), stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_until(self, url: str, ready, timeout: float) -> None:
        """Poll `url` until `ready(response)`; on failure say what the server last answered and logged."""
        deadline, last = time.monotonic() + timeout, "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"`{self.command}` exited with {self.proc.returncode}:\n{self.output()}")
            try:
                response = httpx.get(url, timeout=5)
                if ready(response):
                    return
                last = f"{response.status_code} {response.text[:1000]}"
            except httpx.HTTPError as e:
                last = repr(e)
            time.sleep(0.3)
        pytest.fail(f"`{self.command}` was not ready within {timeout:.0f} s; {url} last answered: {last}\n"
                    f"{self.output()[-1500:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # uvicorn shuts down; a local model child is stopped with it
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


class Readme:
    """State shared by the README's commands, in order: the sample index, the current server, eval runs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.press = root / "docs" / "press"  # what `~/docs/press` stands for
        shutil.copytree(SAMPLE, self.press)
        self.index = root / "index"
        self.results = root / "results"
        self.bin = root / "bin"
        self.bin.mkdir()
        rag = self.bin / "rag"  # the `rag` of the test's own Python environment, first on PATH
        rag.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m rag "$@"\n')
        rag.chmod(0o755)
        (root / "notes.txt").write_text("The Bund kiosk opened in March near the ferry pier.\n"
                                        "The Bund kiosk sells paper maps of the Yuyuan Garden for 15 yuan.\n"
                                        "It also rents audio guides in five languages.\n")
        (root / "minutes.md").write_text("# Kiosk minutes\n\nThe kiosk committee met on 4 March 2024.\n"
                                         "It agreed to open the kiosk at 8:00 every day.\n")
        self.questions = root / "my_questions.jsonl"
        self.questions.write_text(own_questions())
        self.model = root / "my_model.json"
        self.env = {**os.environ, "RAG_INDEX_DIR": str(self.index), "PATH": f"{self.bin}:{os.environ['PATH']}",
                    "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        self.server: Server | None = None
        self.served_port = 0

    # ------------------------------------------------------------------ filling in the README's words
    def fill(self, token: str) -> str:
        replacements = {
            "~/docs/press": str(self.press),
            "my_questions.jsonl": str(self.questions),
            "my_model.json": str(self.model),
            "@notes.txt": "@" + str(self.root / "notes.txt"),
            "@minutes.md": "@" + str(self.root / "minutes.md"),
            "127.0.0.1:8000": f"127.0.0.1:{self.served_port}",
        }
        for word, value in replacements.items():
            token = token.replace(word, value)
        if "<doc-id-or-prefix>" in token:
            token = token.replace("<doc-id-or-prefix>", self.doc_id()[:12])
        if "<doc-id>" in token:
            token = token.replace("<doc-id>", self.uploaded_doc_id())
        if token in ("RUN_A", "RUN_B"):
            runs = sorted(p for p in self.results.glob("*") if p.is_dir())
            assert len(runs) >= 2, "`rag eval compare RUN_A RUN_B` needs two `rag eval` runs before it in the README"
            token = str(runs[-2] if token == "RUN_A" else runs[-1])
        left = PLACEHOLDER.search(token)
        assert left is None and not token.startswith("~"), (
            f"README placeholder {token!r} is not one this test knows how to fill in: teach fill() or reword the README")
        return token

    def doc_id(self) -> str:
        """A document of the `press` collection, as a user finds it: from `rag search --json`."""
        r = self.sh(f"rag search {shlex.quote(QUESTION)} -c press --json")
        return json.loads(r.stdout)["hits"][0]["passage"]["doc_id"]

    def uploaded_doc_id(self) -> str:
        assert self.server is not None, "`<doc-id>` is filled from the running server's documents"
        docs = httpx.get(f"{self.server.base}/v1/documents?limit=1000", timeout=30).json()["documents"]
        uploaded = sorted((not d["source"].endswith("notes.txt"), d["doc_id"]) for d in docs
                          if d["source"].startswith("uploads/"))  # notes.txt's first: minutes.md is deleted by file
        assert uploaded, "the README deletes an uploaded document: its upload example must come first"
        return uploaded[0][1]

    def check_shared(self, words: list[str], env: dict[str, str]) -> None:
        """A command reading the project's evaluation data fails here, naming the path, when it is absent."""
        paths = [REPO / w[w.index("../shared"):] for w in words if "../shared" in w]
        if words[:2] == ["rag", "eval"] and "--dataset" in words and "--path" not in words:
            from eval.runner import DATA_FILES
            from rag.settings import Settings

            data_dir = Path(env.get("RAG_EVAL_DATA_DIR") or Settings.model_fields["eval_data_dir"].default)
            paths.append(REPO / data_dir / DATA_FILES[words[words.index("--dataset") + 1]])
        for path in paths:
            if not path.resolve().exists():
                pytest.fail(f"{path.resolve()} is missing: this README command needs the project's evaluation "
                            "data (RAG_EVAL_DATA_DIR, by default ../shared/eval beside the repository)")

    # ------------------------------------------------------------------ running
    def sh(self, command: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        r = subprocess.run(["bash", "-c", command], cwd=REPO, env=env or self.env, capture_output=True, text=True,
                           timeout=timeout)
        assert r.returncode == 0, f"`{command}` exited with {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        return r

    def run(self, snippet: Snippet) -> None:
        if snippet.lang == "python":
            return self.run_python(snippet.text)
        if snippet.lang == "json":
            return self.run_mcp_config(snippet.text)
        if "--local-llm" in snippet.text and NEEDS_LLAMA:
            pytest.skip("llama-cpp-python is not installed: `make test` builds it (the Makefile's local-llm target)")
        words = shlex.split(snippet.text, comments=True)
        env = dict(self.env)
        while words and ENV_ASSIGNMENT.match(words[0]):
            name, _, value = words.pop(0).partition("=")
            env[name] = self.fill(value)
        self.check_shared(words, env)
        if words[:2] == ["rag", "serve"]:
            return self.serve(words, env)
        if words[:2] == ["rag", "mcp"]:
            return self.mcp(words, env)
        if words[0] == "curl":
            assert self.server is not None and self.served_port, f"`{snippet.text}` needs a `rag serve` before it"
        evaluation = words[:2] == ["rag", "eval"] and (len(words) == 2 or words[2].startswith("-")) and "--help" not in words
        if evaluation:  # a run over a question set (not compare / train-*): small, and out of the working tree
            words += [] if "--limit" in words else ["--limit", EVAL_LIMIT]
            words += [] if "--output" in words else ["--output", str(self.results)]
            words += ["--no-progress"]
        command = shlex.join(self.fill(w) for w in words)
        r = self.sh(command, env)
        self.check_output(words, r.stdout, evaluation)
        if words[:2] == ["rag", "delete"]:
            self.sh(f"rag index {shlex.quote(str(self.press))} -c press --no-progress")  # later commands see it all

    def check_output(self, words: list[str], out: str, evaluation: bool) -> None:
        if words[0] == "curl":
            assert out.strip() and not out.lstrip().startswith('{"error"'), out[:2000]
        if words[:2] == ["rag", "ask"] and "--json" in words:
            answer = json.loads(out)
            assert answer["citations"] and all(c["verified"] for c in answer["citations"]), out[:2000]
        if evaluation:
            assert "Results:" in out, out[-2000:]
        if words[:3] == ["rag", "eval", "train-answerer"]:
            assert self.model.exists() and "wrote" in out, out[-2000:]

    def serve(self, words: list[str], env: dict[str, str]) -> None:
        self.stop()
        port = free_port()
        env = {**env, "RAG_PORT": str(port), "RAG_LOCAL_LLM_PORT": str(free_port())}
        words = [self.fill(w) for w in words]
        if "--port" in words:
            words[words.index("--port") + 1] = str(port)
        base = f"http://127.0.0.1:{port}"
        self.server = Server(shlex.join(words), env, self.root / f"serve-{port}.log", base)
        self.served_port = port
        timeout = 240 if "--local-llm" in words else 120
        self.server.wait_until(f"{base}/readyz", lambda r: r.status_code == 200, timeout)
        r = httpx.post(f"{base}/v1/ask", json={"question": QUESTION}, timeout=120)
        assert r.status_code == 200 and r.json()["citations"], r.text[:2000]

    def mcp(self, words: list[str], env: dict[str, str]) -> None:
        words = [self.fill(w) for w in words]
        writes = "--allow-writes" in words
        if "--http" not in words:
            check_tools(mcp_over_stdio("bash", ["-c", "exec " + shlex.join(words)], env), writes)
            return
        self.stop()
        port = free_port()
        if "--port" in words:
            words[words.index("--port") + 1] = str(port)
        else:
            words += ["--port", str(port)]
        url = f"http://127.0.0.1:{port}/mcp"
        self.server = Server(shlex.join(words), env, self.root / f"mcp-{port}.log", url)
        self.served_port = 0  # not the REST API: a curl example now would be a README mistake
        self.server.wait_until(url, lambda r: r.status_code < 500, 120)
        check_tools(mcp_over_http(url), writes)

    def run_python(self, code: str) -> None:
        assert self.server is not None and self.served_port, "the Python example needs a `rag serve` before it"
        script = self.root / "example.py"
        script.write_text(code.replace("127.0.0.1:8000", f"127.0.0.1:{self.served_port}"))
        r = subprocess.run([sys.executable, str(script)], cwd=self.root, env=self.env, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0 and r.stdout.strip(), f"{r.stdout[-2000:]}\n{r.stderr[-3000:]}"

    def run_mcp_config(self, text: str) -> None:
        """The desktop client's configuration: start what it names, as the client would, and use it."""
        server = json.loads(text)["mcpServers"]["rag"]
        assert server["command"].endswith("/.venv/bin/rag"), server["command"]
        assert server["env"]["RAG_INDEX_DIR"].endswith("/index")
        env = {**self.env, **server["env"], "RAG_INDEX_DIR": str(self.index)}
        check_tools(mcp_over_stdio(str(self.bin / "rag"), server["args"], env), writes=False)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.server, self.served_port = None, 0


def own_questions() -> str:
    """`my_questions.jsonl` for the README's own-questions commands: a slice of the bundled development set
    (answerable and unanswerable `train` questions, a few `test` ones), in the format the README describes."""
    rows = [json.loads(line) for line in SAMPLE_QUESTIONS.read_text().splitlines() if line.strip()]
    train = [q for q in rows if q["split"] == "train"]
    answerable = [q for q in train if q["kind"] != "unanswerable"][:30]
    unanswerable = [q for q in train if q["kind"] == "unanswerable"][:10]
    test = [q for q in rows if q["split"] == "test"][:8]
    return "".join(json.dumps(q) + "\n" for q in answerable + unanswerable + test)


@pytest.fixture(scope="module")
def readme(tmp_path_factory):
    state = Readme(tmp_path_factory.mktemp("readme"))
    yield state
    state.stop()


@pytest.mark.slow
@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.id for s in SNIPPETS])
def test_readme_command(readme, snippet):
    readme.run(snippet)
