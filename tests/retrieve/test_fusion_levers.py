"""Convex fusion, chunk-to-document aggregation and the settings that choose them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rag.retrieve.fusion import DocAggregation, FusionMethod, by_document, convex, rrf
from rag.settings import Settings


def test_convex_hand_computed() -> None:
    dense = [(1, 0.9), (2, 0.7), (3, 0.5)]  # min-max: 1.0, 0.5, 0.0
    bm25 = [(3, 12.0), (4, 4.0)]  # min-max: 1.0, 0.0
    fused = dict(convex([dense, bm25], [0.6, 0.4]))
    assert fused == pytest.approx({1: 0.6, 2: 0.3, 3: 0.4, 4: 0.0})
    assert [d for d, _ in convex([dense, bm25], [0.6, 0.4])] == [1, 3, 2, 4]
    assert convex([[(7, 2.0)], []], [1.0, 1.0]) == [(7, 1.0)]  # one hit: span 0, scores 1
    with pytest.raises(ValueError, match="one weight"):
        convex([dense], [1.0, 1.0])


def test_rrf_rejects_a_non_positive_constant() -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        rrf([[1]], [1.0], k=0)


def test_by_document_groups_chunks_under_their_documents() -> None:
    fused = [(10, 0.5), (20, 0.4), (11, 0.35), (30, 0.3), (21, 0.3), (22, 0.2)]
    doc_of = {10: "a", 11: "a", 20: "b", 21: "b", 22: "b", 30: "c"}
    assert by_document(fused, doc_of, DocAggregation.NONE) == fused
    # max: a (0.5) > b (0.4) > c (0.3); chunks grouped, each document's chunks in fused order
    assert [c for c, _ in by_document(fused, doc_of, DocAggregation.MAX)] == [10, 11, 20, 21, 22, 30]
    # sum of the best two: a = 0.5 + 0.35 = 0.85 > b = 0.4 + 0.3 = 0.7 > c = 0.3
    got = by_document(fused, doc_of, DocAggregation.SUM, top_n=2)
    assert [c for c, _ in got] == [10, 11, 20, 21, 22, 30]
    assert dict(got)[22] == pytest.approx(0.7) and dict(got)[30] == pytest.approx(0.3)
    # sum of the best three lifts b (0.9) above a (0.85)
    assert [c for c, _ in by_document(fused, doc_of, DocAggregation.SUM, top_n=3)][:3] == [20, 21, 22]
    with pytest.raises(ValueError, match="top_n"):
        by_document(fused, doc_of, DocAggregation.SUM, top_n=0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fusion", "mean", "'rrf' or 'convex'"),
        ("doc_aggregation", "avg", "'none', 'max' or 'sum'"),
        ("doc_aggregation_top_n", 0, "greater than or equal to 1"),
        ("rrf_k", 0, "greater than or equal to 1"),
        ("sentence_weight", -0.5, "greater than or equal to 0"),
        ("sentence_depth", 0, "greater than or equal to 1"),
    ],
)
def test_bad_fusion_settings_say_what_is_allowed(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**{field: value})


def test_fusion_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_FUSION", "convex")
    monkeypatch.setenv("RAG_DOC_AGGREGATION", "sum")
    s = Settings()
    assert s.fusion is FusionMethod.CONVEX and s.doc_aggregation is DocAggregation.SUM
    monkeypatch.setenv("RAG_FUSION", "nonsense")
    with pytest.raises(ValidationError, match="fusion"):
        Settings()


def test_cli_names_a_bad_fusion_setting(tmp_path) -> None:
    from typer.testing import CliRunner

    from rag.cli.main import app

    res = CliRunner().invoke(app, ["search", "anything", "--index-dir", str(tmp_path)],
                             env={"RAG_DOC_AGGREGATION": "mean"})
    assert res.exit_code == 1 and "Invalid setting" in res.output and "'none', 'max' or 'sum'" in res.output
