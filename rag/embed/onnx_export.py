"""Export the packaged sentence-transformers model to ONNX once, offline (torch needed only here).

The graph computes the whole sentence embedding: BERT, mean pooling over the attention mask and
L2 normalisation, so the ONNX path needs nothing but onnxruntime and tokenizers at question time.
Files land in `<encoder_dir>/<model>-<weights digest>/` (`model.onnx`, `model.int8.onnx`); a change
of weights gives a new folder. Each file is written to a temp name and renamed: a killed export
never leaves a half file that a reader would load.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

from rag.embed.paths import resolve_model_path, weights_digest

FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
OPSET = 17


def export_dir(encoder_dir: Path, model_name: str) -> Path:
    model_dir = resolve_model_path(model_name)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(model_name).name or model_name)[:60]
    return Path(encoder_dir) / f"{slug}-{weights_digest(model_dir)}"


def onnx_file(encoder_dir: Path, model_name: str, precision: str) -> Path:
    return export_dir(encoder_dir, model_name) / (INT8_FILE if precision == "int8" else FP32_FILE)


def export_onnx(model_name: str, encoder_dir: Path, precision: str = "fp32") -> Path:
    """Make (or find) the ONNX file of `model_name` in `precision` (fp32 | int8); returns its path."""
    target = onnx_file(encoder_dir, model_name, precision)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if precision == "int8":
        fp32 = export_onnx(model_name, encoder_dir, "fp32")
        _quantize_int8(fp32, target)
    else:
        _export_fp32(resolve_model_path(model_name), target)
    return target


def _export_fp32(model_dir: str, target: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    # Eager attention: the SDPA path bakes shape-dependent Python branches into a traced graph.
    bert = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN202
            states = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    dummy = torch.ones(2, 8, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    tmp = target.with_name(target.name + ".tmp")
    # The tracer warns about Python branches on shapes; with eager attention and a padding mask
    # they are constant for every input shape (checked: tests/embed/test_onnx_encoder.py).
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            SentenceEmbedding(), (dummy, dummy, torch.zeros_like(dummy)), str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "sentence_embedding": {0: "batch"}},
            opset_version=OPSET, dynamo=False,
        )
    _fsync_rename(tmp, target)


def _quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the MatMul weights (activations quantised per call): runs on
    VNNI int8 dot products where the CPU has them."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = target.with_name(target.name + ".tmp")
    quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
    _fsync_rename(tmp, target)


def _fsync_rename(tmp: Path, target: Path) -> None:
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, target)
