"""A one-shot `rag ask` / `rag search` whose collection has an ONNX query encoder never imports torch,
nor the file parsers (bs4, pypdf, openpyxl, python-pptx, python-docx): a question reads no file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ["torch", "transformers", "sentence_transformers", "bs4", "pypdf", "openpyxl", "pptx", "docx"]

# Runs the real CLI entry point in a fresh interpreter, then reports which heavy modules it loaded.
PROBE = """
import json, sys
from rag.cli.main import app
try:
    app(sys.argv[1:], prog_name="rag")
except SystemExit as e:
    code = e.code
print(json.dumps({"exit": code, "loaded": [m for m in %r if m in sys.modules]}), file=sys.stderr)
"""


def _run(args: list[str], settings, encoder_dir) -> tuple[str, dict]:  # noqa: ANN001
    env = {**os.environ, "RAG_INDEX_DIR": str(settings.index_dir), "RAG_COLLECTION": settings.collection,
           "RAG_ENCODER_DIR": str(encoder_dir)}
    env.pop("RAG_EMBED_BACKEND", None)
    proc = subprocess.run([sys.executable, "-c", PROBE % HEAVY, *args], env=env, capture_output=True,
                          text=True, timeout=120)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return proc.stdout, report


@pytest.mark.parametrize("args", [
    ["ask", "Who met with Ge Lihe?"],  # (issue 10's evidence model misranks the Yangpu chair question)
    ["search", "humanoid robot innovation center", "--json"],
])
def test_one_shot_commands_do_not_import_torch(args, sample_settings, onnx_encoder_dir):
    out, report = _run(args, sample_settings, onnx_encoder_dir)
    assert report["exit"] in (0, None), out
    assert report["loaded"] == [], f"{args[0]} imported {report['loaded']}"
    assert ("Chen Jining" in out) if args[0] == "ask" else ("humanoid" in out.lower())


def test_without_an_export_the_question_still_works_through_torch(sample_settings, tmp_path):
    out, report = _run(["ask", "Who met with Ge Lihe?"], sample_settings, tmp_path / "none")
    assert report["exit"] in (0, None) and "Chen Jining" in out
    assert "torch" in report["loaded"]
