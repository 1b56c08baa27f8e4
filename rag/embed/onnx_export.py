"""Export the packaged sentence-transformers model to ONNX once, offline (torch needed only here).

The graph computes the whole sentence embedding: BERT, mean pooling over the attention mask and
L2 normalisation, so the ONNX path needs nothing but onnxruntime and tokenizers at question time.
Files land in `<encoder_dir>/<model>-<weights digest>/`: `model.raw.onnx` (traced), `model.onnx`
(the traced graph with ONNX Runtime's BERT fusions: one Attention op per layer instead of ~20 small
ones, SkipLayerNormalization, BiasGelu; measured faster per query in eval/bench/encoders.py, same
vectors to cosine 0.9999996), `model.int8.onnx` and `model.int8-all.onnx` on demand; a change of weights gives a new folder. Each file is written to a temp name and renamed: a killed export
never leaves a half file that a reader would load.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

from rag.embed.paths import resolve_model_path, weights_digest
from rag.embed.protocols import FAMILY_INT8_ALL, QUANTIZED_FAMILIES
from rag.files import atomic_path

FP32_FILE = "model.onnx"  # fused by ONNX Runtime's BERT optimiser: what queries run
RAW_FILE = "model.raw.onnx"  # as traced from torch: the source of the fused and the int8 files
INT8_FILE = "model.int8.onnx"
INT8_ALL_FILE = "model.int8-all.onnx"
OPSET = 17


def export_dir(encoder_dir: Path, model_name: str) -> Path:
    model_dir = resolve_model_path(model_name)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(model_name).name or model_name)[:60]
    return Path(encoder_dir) / f"{slug}-{weights_digest(model_dir)}"


def onnx_file(encoder_dir: Path, model_name: str, precision: str) -> Path:
    """precision: fp32 (fused), raw (fp32 as traced), int8 or int8-all."""
    names = {"fp32": FP32_FILE, "raw": RAW_FILE, "int8": INT8_FILE, "int8-all": INT8_ALL_FILE}
    return export_dir(encoder_dir, model_name) / names[precision]


def export_onnx(model_name: str, encoder_dir: Path, precision: str = "fp32") -> Path:
    """Make (or find) the ONNX file of `model_name` in `precision` (fp32 | int8 | int8-all); returns its path."""
    target = onnx_file(encoder_dir, model_name, precision)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if precision in QUANTIZED_FAMILIES:
        _quantize_int8(export_onnx(model_name, encoder_dir, "raw"), target, down_projections=precision == FAMILY_INT8_ALL)
    elif precision == "fp32":
        _fuse(export_onnx(model_name, encoder_dir, "raw"), resolve_model_path(model_name), target)
    else:
        _export_fp32(resolve_model_path(model_name), target)
    return target


def _fuse(source: Path, model_dir: str, target: Path) -> None:
    """ONNX Runtime's transformer optimiser, offline, once: fused attention and layer norms."""
    import json

    from onnxruntime.transformers import optimizer

    cfg = json.loads((Path(model_dir) / "config.json").read_text())
    model = optimizer.optimize_model(
        str(source), model_type="bert", num_heads=int(cfg["num_attention_heads"]),
        hidden_size=int(cfg["hidden_size"]), opt_level=1,
    )
    with atomic_path(target) as tmp:
        model.save_model_to_file(str(tmp))


def _export_fp32(model_dir: str, target: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the "Loading weights" bar is noise in `rag index` output, as in torch_encoder
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
    # The tracer warns about Python branches on shapes; with eager attention and a padding mask
    # they are constant for every input shape (checked: tests/embed/test_onnx_encoder.py).
    with atomic_path(target) as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            SentenceEmbedding(), (dummy, dummy, torch.zeros_like(dummy)), str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "sentence_embedding": {0: "batch"}},
            opset_version=OPSET, dynamo=False,
        )


def _quantize_int8(source: Path, target: Path, down_projections: bool = False) -> None:
    """Dynamic int8 quantisation (int8 dot products, VNNI where the CPU has it) of the weight MatMuls.

    Measured on sample sentences and questions against torch fp32 (min cosine): every MatMul,
    per-tensor scales 0.921; weight MatMuls per-channel 0.985; the same without the FFN
    down-projections (1536 -> 384, whose GELU outputs carry the outliers) 0.993: that is `int8`.
    Those fp32 down-projections then take ~46 % of an int8 encode (ONNX Runtime's profiler, SciFact
    chunks), so `int8-all` (down_projections=True) makes them int8 as well: 1.33x faster, median
    cosine to fp32 0.9947 vs 0.9978 (README, issue 11). Attention's activation x activation MatMuls
    stay fp32 in both (int8 there was slower here and lost more: median cosine 0.990).
    """
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source)).graph
    weights = {i.name: tuple(i.dims) for i in graph.initializer}
    keep_fp32 = []
    for node in graph.node:
        if node.op_type != "MatMul":
            continue
        dims = [weights[i] for i in node.input if i in weights]
        down = len(dims) > 0 and len(dims[0]) == 2 and dims[0][0] > dims[0][1]
        if not dims or (down and not down_projections):  # activations, or a down-projection kept fp32
            keep_fp32.append(node.name)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs "consider pre-processing" advice at WARNING on the root logger
    try:
        with atomic_path(target) as tmp:
            quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                             per_channel=True, nodes_to_exclude=keep_fp32)
    finally:
        root.setLevel(level)

