"""What `rag index` exports after indexing: the fp32 question encoder only for fp collections."""

from __future__ import annotations

from rag.cli.main import _export_query_encoder
from rag.embed.protocols import FAMILY_INT8_ALL
from rag.settings import DEFAULT_MODEL, Settings


def test_an_int8_collection_needs_no_fp32_question_encoder(tmp_path):
    """Its questions are encoded by the int8 file indexing already made: no second export (and no torch)."""
    folder = tmp_path / "encoders"
    _export_query_encoder(Settings(encoder_dir=folder), DEFAULT_MODEL, FAMILY_INT8_ALL)
    assert not folder.exists() or not any(folder.rglob("*.onnx"))
