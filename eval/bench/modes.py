"""Answer modes with the bundled local model: extractive vs llm vs hybrid, on seeds and SQuAD 2.0 dev.

    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.modes --dataset seeds
    HF_HUB_OFFLINE=1 .venv/bin/python -m eval.bench.modes --dataset squad2 --limit 100

Starts the managed llama.cpp server (the local reader model, rag/llm), indexes the dataset's corpus with the
`rag eval` runner's own preparation (same collection names, cached), and asks every question in
the three modes through the real Assistant. Scores come from eval.scoring (the `rag eval` metrics)
plus what the runner does not record: refusal accuracy, the share of model sentences the verifier
dropped, and the model's generation speed.

At temperature 0, llm and hybrid send the same request for a question, so the model is called once:
the reply is recorded by an httpx transport and replayed to the hybrid answerer. Hybrid latency is
its own wall time plus the recorded time of that request, i.e. what a user of hybrid would wait.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import openai

from eval.adapters import EvalQuestion
from eval.bench.common import SHARED, table, write_result
from eval.runner import EvalOptions, load_dataset, prepare
from eval.scoring import aggregate, score_answer, score_retrieval
from rag.service.assistant import Assistant
from rag.answer.hybrid import HybridAnswerer
from rag.answer.llm import LLMAnswerer
from rag.llm.supervisor import local_llm_settings, start_local_llm
from rag.embed.factory import make_encoder
from rag.models import Answer, AnswerMode, AskRequest
from rag.pipeline.indexer import index_paths
from rag.settings import Settings

MODES = ("extractive", "llm", "hybrid")
PATHS = {"seeds": SHARED / "eval" / "seeds_dev.jsonl", "squad2": SHARED / "eval" / "squad2"}


class RecordingTransport(httpx.BaseTransport):
    """Sends a request body once; an identical body later gets the recorded response back."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.recorded: dict[bytes, tuple[int, list[tuple[bytes, bytes]], bytes, float]] = {}
        self.last_live_ms = 0.0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        if body not in self.recorded:
            t0 = time.perf_counter()
            resp = self.inner.handle_request(request)
            content = resp.read()
            self.last_live_ms = (time.perf_counter() - t0) * 1000
            self.recorded[body] = (resp.status_code, resp.headers.raw, content, self.last_live_ms)
            resp.close()
        status, headers, content, _ = self.recorded[body]
        return httpx.Response(status, headers=headers, content=content, request=request)

    def live_ms(self, body_count_before: int) -> float:
        return self.last_live_ms if len(self.recorded) > body_count_before else 0.0


def _record(q: EvalQuestion, ans: Answer, dataset: str, passages: dict[str, str], total_ms: float) -> dict[str, Any]:
    return {
        "qid": q.qid, "question": q.text, "unanswerable": q.is_unanswerable, "gold_answers": list(q.answers),
        "answer": ans.answer, "refused": ans.refused, "mode": ans.mode, "notes": ans.notes,
        "meta": ans.diagnostics.model_dump(), "scores": score_answer(dataset, q, ans, passages), "timings_ms": {"total": total_ms},
    }


def summarise(dataset: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    a = aggregate(dataset, records)["answer"]
    llm_sent = sum(int(r["meta"].get("llm_sentences") or 0) for r in records)
    dropped = sum(int(r["meta"].get("dropped_sentences") or 0) for r in records)
    return {
        "answer_accuracy": a["accuracy"],
        "refusal_accuracy": statistics.mean(float(r["refused"] == r["unanswerable"]) for r in records),
        "citation_precision": a["citation_precision"],
        "dropped_share": dropped / llm_sent if llm_sent else None,
        "fallback_share": statistics.mean(float(r["mode"] == "fallback") for r in records),
        "median_latency_ms": statistics.median(r["timings_ms"]["total"] for r in records),
        "f1_answerable": a.get("f1_answerable"),
    }


def run(dataset: str, limit: int | None, base: Settings) -> dict[str, Any]:
    opts = EvalOptions(dataset=dataset, path=PATHS[dataset], limit=limit, progress=False)
    evalset, kinds = load_dataset(opts)
    questions = evalset.questions[:limit] if limit else evalset.questions
    prepared = prepare(opts, evalset, kinds, questions, base)
    settings = base.model_copy(update={"collection": prepared.collection})
    embedder = make_encoder(settings, "document")
    index_paths(prepared.paths, settings, progress=False, embedder=embedder)

    records: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    tokens, gen_s = 0, 0.0
    with start_local_llm(settings, port=0) as server:
        local = local_llm_settings(settings, server)
        transport = RecordingTransport()
        client = openai.OpenAI(base_url=local.llm_base_url, api_key=local.llm_api_key, timeout=local.llm_timeout_s,
                               max_retries=0, http_client=httpx.Client(transport=transport, timeout=local.llm_timeout_s))
        assistant = Assistant(local, embedder=embedder)
        shared_llm = LLMAnswerer(local, assistant.path.verifier, client=client)
        assistant.path.llm, assistant.path.hybrid = shared_llm, HybridAnswerer(shared_llm, assistant.path.extractive)
        try:
            for i, q in enumerate(questions, 1):
                filters = prepared.filters_of.get(q.qid)
                hits = assistant.search(q.text, None, filters).hits
                passages = {h.passage.chunk_id: h.passage.text for h in hits}
                live_ms = 0.0
                for mode in MODES:
                    before = len(transport.recorded)
                    t0 = time.perf_counter()
                    ans = assistant.ask(AskRequest(question=q.text, filters=filters, mode=AnswerMode(mode)))
                    ms = (time.perf_counter() - t0) * 1000
                    if mode == "llm":
                        live_ms = transport.live_ms(before)
                    elif mode == "hybrid" and len(transport.recorded) == before and live_ms:
                        ms += live_ms  # the request was replayed: add what it cost live
                    records[mode].append(_record(q, ans, dataset, passages, ms))
                if live_ms:  # the model was called for this question
                    tokens += _streamed_tokens(transport)
                    gen_s += live_ms / 1000
                print(f"{dataset} {i}/{len(questions)} {q.qid} ({live_ms / 1000:.1f} s model): " + " | ".join(
                    f"{m} {records[m][-1]['mode']} {records[m][-1]['scores'].get('correct')}" for m in MODES), flush=True)
            speed = measure_speed(local.llm_base_url or "", local.llm_model)
        finally:
            assistant.close()
    rows = [{"mode": m, **summarise(dataset, records[m])} for m in MODES]
    return {"dataset": dataset, "limit": limit, "questions": len(questions), "rows": rows,
            "completion_tokens": tokens, "request_seconds": gen_s, "speed": speed, "records": records}


def measure_speed(base_url: str, model: str, runs: int = 3) -> dict[str, float]:
    """Generation tokens/s (tiny prompt, 128 tokens out) and prompt tokens/s (long prompt, 1 token out),
    from the server's own usage counts."""
    client = openai.OpenAI(base_url=base_url, api_key="local", timeout=120, max_retries=0)
    system = {"role": "system", "content": "You are a helpful assistant."}

    def timed(text: str, max_tokens: int) -> tuple[float, int, int]:
        t0 = time.perf_counter()
        r = client.chat.completions.create(model=model, messages=[system, {"role": "user", "content": text}],
                                           temperature=0, max_tokens=max_tokens)
        assert r.usage is not None
        return time.perf_counter() - t0, r.usage.prompt_tokens, r.usage.completion_tokens

    gen = [timed(f"Write a long story about a cat named Tom{'.' * i}", 128) for i in range(runs)]
    filler = " ".join(f"Sentence {i} says that the river is long and the city is old." for i in range(40))
    # A different first word each time: llama.cpp reuses a cached prompt prefix, which would flatter the figure.
    pro = [timed(f"Text {'ABCDEFGH'[i]}. {filler} Reply with one word.", 1) for i in range(runs)]
    return {"generation_tokens_per_s": statistics.median(c / s for s, _, c in gen),
            "prompt_tokens_per_s": statistics.median(p / s for s, p, _ in pro),
            "prompt_tokens": statistics.median(p for _, p, _ in pro)}


def _streamed_tokens(transport: RecordingTransport) -> int:
    """Completion tokens of the last recorded streamed reply (llama.cpp sends no usage when
    streaming, so count content chunks: one SSE chunk per generated token)."""
    _, _, content, _ = list(transport.recorded.values())[-1]
    return sum(1 for line in content.decode("utf-8", "replace").splitlines()
               if line.startswith("data: {") and '"content"' in line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", choices=sorted(PATHS), action="append", help="seeds and/or squad2 (default both)")
    ap.add_argument("--limit", type=int, default=None, help="Only the first N questions of each dataset")
    ap.add_argument("--index-dir", type=Path, default=Path("index"), help="Where eval collections are cached")
    ap.add_argument("--out", type=Path, default=None, help="JSON result file (default eval/results/bench/...)")
    args = ap.parse_args()
    base = Settings(index_dir=args.index_dir)
    results = [run(d, args.limit if d == "squad2" else None, base) for d in (args.dataset or ["seeds", "squad2"])]
    cols = ["mode", "answer_accuracy", "refusal_accuracy", "citation_precision", "dropped_share", "fallback_share",
            "median_latency_ms", "f1_answerable"]
    for r in results:
        print(f"\n{r['dataset']} ({r['questions']} questions)\n" + table(r["rows"], cols))
        sp = r["speed"]
        print(f"local model: generation {sp['generation_tokens_per_s']:.1f} tokens/s, prompt processing "
              f"{sp['prompt_tokens_per_s']:.1f} tokens/s ({sp['prompt_tokens']:.0f}-token prompt)")
        if r["request_seconds"]:
            print(f"local model: {r['completion_tokens']} streamed tokens in {r['request_seconds']:.1f} s of requests "
                  f"(prompt processing included): {r['completion_tokens'] / r['request_seconds']:.1f} tokens/s")
    path = write_result("modes", {"results": results}, args.out)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
