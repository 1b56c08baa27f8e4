"""Follow-up question rewriting: heuristic, and the LLM path falling back on a dead endpoint."""

from __future__ import annotations

import openai
import pytest

from rag.net import free_port
from rag.answer.rewrite import content_words, heuristic_rewrite, is_follow_up, rewrite_question

PREV = "What agreement did MIIT sign with Shanghai?"
HISTORY = [{"role": "user", "content": PREV}, {"role": "assistant", "content": "A strategic cooperation agreement [1]."}]


@pytest.mark.parametrize("follow_up", ["and who signed it?", "What about Pudong?", "When?", "Who signed it?",
                                       "also the date"])
def test_follow_ups_get_the_previous_topic(follow_up):
    out = rewrite_question(follow_up, HISTORY, None)
    assert out != follow_up
    for word in ("agreement", "MIIT", "Shanghai"):
        assert word in out
    core = follow_up.lower().removeprefix("and ").removeprefix("also ").rstrip("?")
    assert core.lower() in out.lower(), "the follow-up's own words are kept"


def test_example_from_the_brief():
    assert heuristic_rewrite("and who signed it?", HISTORY) == "who signed it (agreement MIIT sign Shanghai)?"


@pytest.mark.parametrize("question", [
    "Where is the Arc'teryx Museum store located?",
    "How many first-office stores opened in Shanghai in 2023?",
    "Which action plan did the Shanghai municipal government's executive meeting agree to in principle?",
])
def test_standalone_questions_are_unchanged(question):
    assert not is_follow_up(question)
    assert rewrite_question(question, HISTORY, None) == question


def test_no_history_or_no_user_turn():
    assert rewrite_question("and who signed it?", [], None) == "and who signed it?"
    only_assistant = [{"role": "assistant", "content": "Hello."}]
    assert rewrite_question("and who signed it?", only_assistant, None) == "and who signed it?"


def test_words_already_asked_are_not_repeated():
    out = heuristic_rewrite("and what did Shanghai get?", HISTORY)
    assert out.count("Shanghai") == 1


def test_content_words():
    assert content_words("What agreement did MIIT sign with Shanghai?") == ["agreement", "MIIT", "sign", "Shanghai"]
    assert content_words("How many stores opened in 2023?") == ["stores", "opened", "2023"]


def test_unreachable_llm_falls_back_to_heuristic():
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{free_port()}/v1", api_key="x", max_retries=0, timeout=2)
    out = rewrite_question("and who signed it?", HISTORY, client, model="any")
    assert out == heuristic_rewrite("and who signed it?", HISTORY)
