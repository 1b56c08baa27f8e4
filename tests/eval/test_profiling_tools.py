"""The memory probe and the stage profiler's grouping (eval/bench/memprobe.py, eval/bench/stages.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from eval.bench.stages import classify, summarise

ROOT = Path(__file__).resolve().parents[2]

GROWER = '''
import os, signal, time
time.sleep(0.5)
os.kill(os.getpid(), signal.SIGUSR1)  # baseline: what the soak sends at the end of its warm-up
time.sleep(0.3)
kept = [bytes(1024) for _ in range(30_000)]  # ~30 MiB of Python objects after the baseline
time.sleep(0.8)
'''


def test_memprobe_samples_rss_malloc_and_python_growth_after_the_baseline(tmp_path) -> None:
    (tmp_path / "grower.py").write_text(GROWER)
    out = tmp_path / "probe.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    subprocess.run([sys.executable, "-m", "eval.bench.memprobe", str(out), "--every", "0.2", "--growth-every", "0.5", "--tracemalloc",
                    "--", "-m", "grower"], check=True, env=env, timeout=60)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    samples = [r for r in rows if "rss_mib" in r]
    assert len(samples) >= 4
    assert {"py_mib", "threads", "os_threads"} <= samples[-1].keys()
    if sys.platform.startswith("linux"):
        assert {"malloc_in_use_mib", "malloc_free_mib", "mmap_mib", "arenas"} <= samples[-1].keys()
        assert samples[-1]["arenas"] >= 1
    assert samples[-1]["py_mib"] - samples[0]["py_mib"] > 25
    assert any(r.get("baseline") for r in rows)
    growth = [r for r in rows if "py_growth_top" in r][-1]["py_growth_top"]
    assert "grower.py:6" in growth[0]["site"] and growth[0]["kib"] > 25_000


def test_stages_groups_stacks_by_route_and_first_frame_of_ours(tmp_path) -> None:
    ask = "run (anyio/_backends/_asyncio.py:900);ask (api/routes_query.py:80);ask (rag/service/core.py:150)"
    stacks = {
        ask + ";stream (rag/answer/assistant.py:80);search (rag/retrieve/hybrid.py:90);encode_query "
              "(rag/embed/onnx_encoder.py:130);run (onnxruntime/capi/onnxruntime_inference_collection.py:220)": 6,
        ask + ";stream (rag/answer/assistant.py:90);score (rag/answer/features.py:40)": 3,
        "run (anyio/_backends/_asyncio.py:900);search (api/routes_query.py:95);search (rag/store/bm25.py:70)": 2,
        "run (asyncio/base_events.py:600);serialize (pydantic/main.py:400)": 1,
        ask + ";RagService._query_slot (rag/service/core.py:169)": 1,
    }
    assert classify(next(iter(stacks)).split(";"))[:2] == ("ask", "encode (tokenise + ONNX Runtime)")
    raw = tmp_path / "stacks.raw"
    raw.write_text("".join(f"{stack} {n}\n" for stack, n in stacks.items()))
    out = summarise(raw)
    assert out["ask"]["samples"] == 10
    assert out["ask"]["stages_pct"] == {"encode (tokenise + ONNX Runtime)": 60.0, "evidence features": 30.0,
                                        "waiting for a query slot (blocked, not computing)": 10.0}
    assert out["search"]["stages_pct"] == {"keyword search (BM25)": 100.0}
    assert out["other"]["stages_pct"] == {"framework (HTTP, validation, JSON)": 100.0}
