"""Turn a follow-up question into a standalone one before retrieval.

Retrieval sees one question at a time, so "and who signed it?" must carry what "it" was.
With an OpenAI-compatible client the LLM rewrites the question (short prompt, low budget);
on any error, or without a client, a heuristic does:

1. A question is a follow-up when it starts with a connector ("and", "what about", "also"...),
   refers back with a pronoun ("it", "they", "that"...) in a short question, or has at most two
   content words.
2. A follow-up gets the content words of the last user question that it does not already
   contain, appended as context: "and who signed it?" after "What agreement did MIIT sign with
   Shanghai?" -> "who signed it (agreement MIIT sign Shanghai)?".
3. Anything else is returned unchanged: a self-contained question must not be polluted.
"""

from __future__ import annotations

import re
from typing import Any

from rag.lexicon import FOLLOW_UP_PRONOUNS, FOLLOW_UP_STOPWORDS

# Leading phrases that only make sense as a continuation; longest first so "and what about" wins.
_CONNECTORS = sorted(
    [
        "and what about", "and how about", "what about", "how about", "what of", "and also", "and then",
        "and", "also", "but", "then", "so", "or", "plus", "same for", "same question for",
    ],
    key=len,
    reverse=True,
)
_CONNECTOR_RE = re.compile(r"^\s*(?:" + "|".join(re.escape(c) for c in _CONNECTORS) + r")\b[\s,]*", re.IGNORECASE)
# Only bare conjunctions are dropped from the rewritten question; "what about X" keeps its meaning.
_STRIP_RE = re.compile(r"^\s*(?:and|also|but|then|so|or|plus)\b[\s,]*", re.IGNORECASE)
_WORD_RE = re.compile(r"[\w][\w'’.,-]*[\w]|\w", re.UNICODE)
SHORT_FOLLOW_UP_WORDS = 2  # at most this many content words = too little to stand alone
# A pronoun only signals a follow-up in a short question: "that" in a long one is usually a relative pronoun.
PRONOUN_FOLLOW_UP_WORDS = 5
MAX_CONTEXT_WORDS = 10
REWRITE_PROMPT = (
    "Rewrite the user's last question as one standalone question that can be understood without the "
    "conversation. Keep names, numbers and dates exactly. If it is already standalone, return it unchanged. "
    "Reply with the question only."
)
LLM_TIMEOUT_S = 15.0
MAX_HISTORY_TURNS = 6  # the LLM sees only the recent conversation: older turns rarely matter and cost tokens


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def content_words(text: str) -> list[str]:
    """Words that carry meaning, in order, de-duplicated case-insensitively."""
    seen: set[str] = set()
    out: list[str] = []
    for w in _words(text):
        key = w.casefold().strip("'’.,-")
        if key in FOLLOW_UP_STOPWORDS or key in seen or len(key) < 2 and not key.isdigit():
            continue
        seen.add(key)
        out.append(w.strip("'’.,-"))
    return out


def is_follow_up(question: str) -> bool:
    if _CONNECTOR_RE.match(question):
        return True
    n_content = len(content_words(question))
    if {w.casefold() for w in _words(question)} & FOLLOW_UP_PRONOUNS and n_content <= PRONOUN_FOLLOW_UP_WORDS:
        return True
    return n_content <= SHORT_FOLLOW_UP_WORDS


def _last_user_question(history: list[dict[str, str]]) -> str | None:
    for turn in reversed(history):
        if turn.get("role") == "user" and str(turn.get("content", "")).strip():
            return str(turn["content"]).strip()
    return None


def heuristic_rewrite(question: str, history: list[dict[str, str]]) -> str:
    """Standalone form of `question` without an LLM (see the module docstring)."""
    question = question.strip()
    previous = _last_user_question(history)
    if not previous or not is_follow_up(question):
        return question
    present = {w.casefold() for w in content_words(question)}
    context = [w for w in content_words(previous) if w.casefold() not in present][:MAX_CONTEXT_WORDS]
    if not context:
        return question
    core = _STRIP_RE.sub("", question).strip().rstrip("?.! ") or question.rstrip("?.! ")
    return f"{core} ({' '.join(context)})?"


def _llm_rewrite(question: str, history: list[dict[str, str]], llm_client: Any, model: str) -> str | None:
    turns = [t for t in history if t.get("role") in ("user", "assistant")][-MAX_HISTORY_TURNS:]
    transcript = "\n".join(f"{t['role']}: {str(t.get('content', ''))[:1000]}" for t in turns)
    client = llm_client.with_options(timeout=LLM_TIMEOUT_S, max_retries=0) if hasattr(llm_client, "with_options") else llm_client
    resp = client.chat.completions.create(
        model=model,
        messages=[
            {"role": "system", "content": REWRITE_PROMPT},
            {"role": "user", "content": f"Conversation:\n{transcript}\n\nLast question: {question}\n\nStandalone question:"},
        ],
        temperature=0,
        max_tokens=96,
    )
    text = (resp.choices[0].message.content or "").strip().strip('"').strip()
    text = text.splitlines()[0].strip() if text else ""
    # A rewrite that is empty or balloons is a model misbehaving, not a question.
    if not text or len(text) > 3 * len(question) + 200:
        return None
    return text


def rewrite_question(
    question: str, history: list[dict[str, str]], llm_client: Any | None = None, model: str | None = None
) -> str:
    """A standalone version of `question` given earlier OpenAI-style turns.

    `llm_client` is an openai.OpenAI (or None for the heuristic); `model` defaults to
    Settings().llm_model. Never raises because of the LLM: any failure falls back to the heuristic.
    """
    if not history or _last_user_question(history) is None:
        return question
    if llm_client is not None:
        try:
            if model is None:
                from rag.settings import Settings  # noqa: PLC0415 - only needed when the caller gave no model

                model = Settings().llm_model
            rewritten = _llm_rewrite(question, history, llm_client, model)
            if rewritten:
                return rewritten
        except Exception:  # noqa: BLE001 - an unreachable or odd endpoint must not fail the question
            pass
    return heuristic_rewrite(question, history)
