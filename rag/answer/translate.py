"""Search a Chinese collection in Chinese: an English question is translated by the LLM before retrieval.

Keyword search cannot match English words in Han text, and the multilingual encoder scores an English
question against its Chinese answer sentence at about half the cosine of a Chinese one (docs/DECISIONS.md,
"Multilingual encoder"), so without this an English question finds its article in the top 5 about half as
often. Only the retrieval query changes: the answer is still checked against the user's own question,
and the reply names the translation it searched with. No endpoint, a failed call or a reply without
Han characters leaves the question as it was.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from rag.answer.prompts import TRANSLATE_EXAMPLES, TRANSLATE_SYSTEM_PROMPT
from rag.settings import MULTILINGUAL_MODEL
from rag.zh.script import has_han

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)
MAX_TOKENS = 80  # a question, not an essay: also bounds a small model that starts answering instead
CACHE_SIZE = 512  # the same question asked again (eval re-runs, a page reload) costs nothing


def wants_translation(question: str, collection_model: str | None) -> bool:
    """An English (Latin-script) question over a collection built with the multilingual encoder, which is
    what a new collection of mostly Han documents gets (rag.embed.choice)."""
    return collection_model == MULTILINGUAL_MODEL and not has_han(question) and any(c.isalpha() for c in question)


def clean_translation(reply: str) -> str | None:
    """The first non-empty line, without quotes; None when it holds no Han character (not a translation)."""
    line = next((ln.strip() for ln in reply.strip().splitlines() if ln.strip()), "")
    line = line.strip("\"'“”‘’「」")
    return line if has_han(line) else None


class QuestionTranslator:
    """English → Chinese with an OpenAI-compatible client; results cached per question, thread-safe."""

    def __init__(self, client: openai.OpenAI, model: str, timeout_s: float) -> None:
        self._client, self._model, self._timeout = client, model, timeout_s
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, str | None] = OrderedDict()  # question -> translation, least recent first

    def translate(self, question: str) -> str | None:
        with self._lock:
            if question in self._cache:
                self._cache.move_to_end(question)
                return self._cache[question]
        out = self._translate(question)  # outside the lock: a slow model call must not hold up cached questions
        with self._lock:
            self._cache[question] = out
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return out

    def made(self, text: str) -> bool:
        """Whether `text` is one of this translator's recent translations (its names may be mistranslated)."""
        with self._lock:
            return text in self._cache.values()

    def _translate(self, question: str) -> str | None:
        import openai  # noqa: PLC0415 - only a path with an endpoint gets here (openai is slow to import)

        messages: list[dict[str, str]] = [{"role": "system", "content": TRANSLATE_SYSTEM_PROMPT}]
        for english, chinese in TRANSLATE_EXAMPLES:
            messages += [{"role": "user", "content": english}, {"role": "assistant", "content": chinese}]
        messages.append({"role": "user", "content": question})
        try:
            reply = self._client.chat.completions.create(
                model=self._model, messages=messages, temperature=0, max_tokens=MAX_TOKENS, timeout=self._timeout)
        except openai.OpenAIError as e:  # the question is still searched, in English
            log.warning("translating the question for a Chinese collection failed: %s", e)
            return None
        return clean_translation(reply.choices[0].message.content or "")
