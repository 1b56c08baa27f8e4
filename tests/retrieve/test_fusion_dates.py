import pytest

from rag.retrieve.dates import date_filter_from_question
from rag.retrieve.fusion import rrf


def test_rrf_hand_computed():
    fused = dict(rrf([[1, 2, 3], [3, 1]], [1.0, 1.0], k=60))
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62)
    assert [d for d, _ in rrf([[1, 2, 3], [3, 1]], [1.0, 1.0], k=60)] == [1, 3, 2]


def test_rrf_weights_change_order():
    assert rrf([[1], [2]], [1.0, 2.0])[0][0] == 2


@pytest.mark.parametrize(
    "question,since,until",
    [
        ("What happened in May 2024 in Yangpu?", "2024-05-01", "2024-05-31"),
        ("the mayor's May 2024 research on consumption", "2024-05-01", "2024-05-31"),
        ("Which meetings were held during 2023?", "2023-01-01", "2023-12-31"),
        ("Events of Feb 2024", "2024-02-01", "2024-02-29"),
    ],
)
def test_date_filter_from_question(question, since, until):
    f = date_filter_from_question(question)
    assert f is not None and (f.since, f.until) == (since, until) and f.automatic


@pytest.mark.parametrize("question", ["How many stores opened last year?", "Who signed it?", "What is 2024 about"])
def test_no_date_filter_without_explicit_calendar_mention(question):
    assert date_filter_from_question(question) is None
