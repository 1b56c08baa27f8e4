"""The architecture as tests: the import layering (import-linter's contracts in pyproject.toml, `[tool.importlinter]`)
and the size of a module.

A layer imports only layers below it, siblings marked independent never import each other, and no package's
modules import each other in a circle, function-level imports included (they hid six circles before issue 29).
When a contract breaks, lint-imports prints the offending import chain: move the shared piece down into its
own module rather than importing inside a function.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "api", "eval")  # every module outside tests/ (pyproject's packages.find)
MAX_LINES = 400  # a module longer than this does more than one thing: split it


def test_imports_keep_the_layers_and_make_no_circles() -> None:
    lint = Path(sys.executable).with_name("lint-imports")  # the venv's script, beside its python
    proc = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert " 0 broken" in proc.stdout


def test_no_module_is_longer_than_400_lines() -> None:
    lines = {str(p.relative_to(REPO)): len(p.read_text(encoding="utf-8").splitlines())
             for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}
    assert len(lines) > 100  # the walk found the packages
    too_long = {path: n for path, n in sorted(lines.items()) if n > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines (split each along its seams): {too_long}"
