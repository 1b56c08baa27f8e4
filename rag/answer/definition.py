"""Definition questions ("What is semihosting?") and the sentences that define their term.

A reader of documentation asks "What is X?" more than anything else, and the evidence model, learned from
press-release and encyclopedia questions that almost never ask it, ranks highest the sentence that mentions
X most ("Unlike OpenOCD, Probe-rs is built with simplicity in mind ..."), not the one that says what X is
("Probe-rs is a modern, Rust-focused software designed to work with debuggers ..."). The composer therefore
prefers, for such a question, a candidate that states the definition in the usual English form: the term as
the sentence's subject followed by a defining verb. No score or threshold is involved: the pattern either
holds or not, and the candidates it chooses among are the ones the model already ranked and did not refuse.
In order: a sentence that defines the term; one that names it in an apposition; the sentence that follows a
heading or glossary line that is the term itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.citations import SentenceSpan

# "What is X?", "What are Xs?", "What is a/an/the X?": the whole question is the term (at most MAX_TERM_WORDS
# words: a longer remainder is a question about X, "What is the default compilation mode for development?").
MAX_TERM_WORDS = 4
_QUESTION = re.compile(r"^\s*what\s+(?:is|are)\s+(?:(?:a|an|the)\s+)?(?P<term>[^?]+?)\s*\??\s*$", re.I)
# A sentence-opening adverbial before the subject: "In software engineering, the singleton pattern is ...".
_OPENER = r"(?:(?:in|on|for|at|within)\s+[^,]{1,40},\s+)?"
_ARTICLE = r"(?:(?:a|an|the)\s+)?"
# The defining verb: "is/are" only before what names a class ("is a mechanism", "is the smallest amount",
# "is one of", "is Rust's build system"); "is widely used", "is built with ..." say something else about X.
_DEFINING = (r"(?:\s*\([^)]{1,60}\))?,?\s+(?:(?:is|are|was|were)\s+(?:a|an|the|one|\w+['’]s)\b"
             r"|means\b|refers\s+to\b|stands\s+for\b|describes\b)")
# A code term keeps its marks in the text: "#![no_std] is a crate-level attribute", "`Rc<T>` is ...".
_MARKS = r"[^\w\s]{0,3}"
# The term named by apposition, anywhere in the sentence: "compatible with cargo-generate: a Cargo subcommand
# for creating new Cargo projects", "the RTIC framework, short for Real Time Interrupt-driven Concurrency".
_APPOSITION = r"(?::\s+(?:a|an|the)\s|,\s+(?:short\s+for|(?:a|an|the)\s+\w+))"


def definition_term(question: str) -> str | None:
    """The term a "What is X?" question asks to define; None for any other question."""
    m = _QUESTION.match(question)
    if not m:
        return None
    term = m.group("term").strip()
    words = term.split()
    if not words or len(words) > MAX_TERM_WORDS:
        return None
    return term


def _subject(term: str) -> str:
    """The term as a pattern: any spacing, code marks around it, a plural term matching its singular."""
    words = [re.escape(w) for w in term.split()]
    if words[-1].endswith("s") and len(words[-1]) > 3:
        words[-1] = words[-1][:-1] + "s?"
    return _MARKS + r"\s+".join(words) + _MARKS


def defines(sentence: str, term: str) -> bool:
    """Does the sentence define the term: "[In ...,] [A/An/The] TERM [(...)] is a|an|the ..., means, refers to ..."?
    Case and spacing are ignored; a plural question term also matches its singular subject ("What are
    zero sized types?" on "A zero sized type is ...")."""
    return re.match(rf"\s*{_OPENER}{_ARTICLE}{_subject(term)}{_DEFINING}", sentence, re.I) is not None


def names_in_apposition(sentence: str, term: str) -> bool:
    """Does the sentence say what the term is in an apposition ("cargo-generate: a Cargo subcommand ...",
    "the RTIC framework, short for ...")? Weaker than `defines`: the composer tries it only when no
    candidate defines the term."""
    return re.search(rf"(?<![\w-]){_subject(term)}(?:\s+\w+)?{_APPOSITION}", sentence, re.I) is not None


def names_term(heading: str, term: str) -> bool:
    """Is this heading or term line about the term itself: "SVD", "MCU-Link", "What is embedded-hal?"? In a
    glossary or a section named after a tool the description follows it ("SVD\nSystem View Description is an XML
    file format ...", "What is embedded-hal?\nIn a nutshell it is a set of traits ...")."""
    text = re.sub(r"^\s*what\s+(?:is|are)\s+(?:(?:a|an|the)\s+)?", "", heading, flags=re.I)
    return re.fullmatch(rf"\s*{_subject(term)}\s*[.:?]?\s*", text, re.I) is not None


def defining_sentence(term: str, spans: Sequence[SentenceSpan], eligible: Sequence[int]) -> tuple[int, str] | None:
    """(candidate index, rule) of the sentence that says what the term is, or None. `eligible`: the candidates
    that may be quoted, best-ranked first; the first that defines the term wins, else the first that names it in
    an apposition, else the sentence right under a heading that is the term (when that sentence is eligible)."""
    for rule, holds in (("defines", defines), ("apposition", names_in_apposition)):
        found = next((i for i in eligible if holds(spans[i].text, term)), None)
        if found is not None:
            return found, rule
    quotable = set(eligible)
    for h, head in enumerate(spans):
        if h in quotable or not names_term(head.text, term):
            continue
        after = [i for i, s in enumerate(spans) if s.doc_id == head.doc_id and s.start >= head.end]
        nxt = min(after, key=lambda i: spans[i].start, default=None)
        if nxt is not None and nxt in quotable:
            return nxt, "term heading"
    return None
