"""Chinese word segmentation with jieba, one tokenizer per process, loaded on first use.

jieba builds its prefix dictionary (~0.5 s, cached on disk by jieba) the first time it cuts; the
lock makes that happen once even when server threads cut their first question together. Cutting
itself only reads the dictionary, so threads share the tokenizer.
"""

from __future__ import annotations

import functools
import logging
import threading

import jieba

logging.getLogger("jieba").setLevel(logging.WARNING)  # "Building prefix dict ..." on every first cut
_LOCK = threading.Lock()


@functools.cache
def tokenizer() -> jieba.Tokenizer:
    with _LOCK:
        tok = jieba.Tokenizer()
        tok.initialize()
        return tok


def cut(text: str) -> list[str]:
    """The words of `text` in order (jieba's precise mode); punctuation and spaces come back as tokens."""
    return tokenizer().lcut(text)


def cut_for_search(text: str) -> list[str]:
    """Words plus their shorter dictionary sub-words ("上海市政府" also gives "上海", "政府"): for keyword search."""
    return tokenizer().lcut_for_search(text)
