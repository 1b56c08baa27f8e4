"""Definition questions and defining sentences (rag.answer.definition), on hand-written cases."""

from __future__ import annotations

import pytest

from rag.answer.definition import defines, definition_term, names_in_apposition, names_term


@pytest.mark.parametrize(("question", "term"), [
    ("What is semihosting?", "semihosting"),
    ("What is a crate?", "crate"),
    ("what are zero sized types", "zero sized types"),
    ("What is the ST-Link?", "ST-Link"),
    ("What is crates.io?", "crates.io"),
    ("What is the tuition fee of Shanghai Open University?", None),  # a question about X, not "what is X"
    ("What is the default compilation mode for development?", None),
    ("Who is Gong Zheng?", None),
    ("What does Box<T> let you do?", None),
    ("What was hoho?", None),  # past tense: history, not a definition
])
def test_definition_term(question: str, term: str | None) -> None:
    assert definition_term(question) == term


@pytest.mark.parametrize(("sentence", "term", "expected"), [
    ("Semihosting is a mechanism that lets embedded devices do I/O on the host.", "semihosting", True),
    ("QEMU is an emulator.", "QEMU", True),
    ("A crate is the smallest amount of code that the Rust compiler considers at a time.", "crate", True),
    ("Cargo is Rust's build system and package manager.", "Cargo", True),
    ("The ST-Link is a popular debugging and programming probe.", "ST-Link", True),
    ("In software engineering, the singleton pattern is a software design pattern.", "singleton pattern", True),
    ("A zero sized type is a type with no data.", "zero sized types", True),  # plural question, singular subject
    ("System View Description (SVD) is an XML file format.", "System View Description", True),
    ("Rc<T> refers to a reference-counted pointer.", "Rc<T>", True),
    ("#![no_std] is a crate-level attribute.", "no_std", True),  # a code term keeps its marks
    # about X, not what X is
    ("ST-Link is widely used due to its direct support from STMicroelectronics.", "ST-Link", False),
    ("Probe-rs is built with simplicity in mind.", "Probe-rs", False),
    ("Unlike OpenOCD, Probe-rs is a modern tool.", "OpenOCD", False),  # X is not the subject
    ("The crates.io registry is a website.", "crate", False),  # another word that starts like X
    ("This runtime won't be available in a no_std environment.", "no_std", False),
])
def test_defines(sentence: str, term: str, expected: bool) -> None:
    assert defines(sentence, term) is expected


@pytest.mark.parametrize(("sentence", "term", "expected"), [
    ("Our template is compatible with cargo-generate: a Cargo subcommand for creating new Cargo projects.",
     "cargo-generate", True),
    ("One alternative is the RTIC framework, short for Real Time Interrupt-driven Concurrency.", "RTIC", True),
    ("Probe-rs, a modern debugging toolkit, supports many probes.", "Probe-rs", True),
    ("From July 17 to 18, Chen Jining, Secretary of the CPC Shanghai Municipal Committee, led ...", "Chen Jining",
     False),  # a title without an article is not what the apposition rule reads
    ("Install cargo-generate-x: a fork.", "cargo-generate", False),  # another name that starts like X
    ("Run cargo-generate to start.", "cargo-generate", False),
])
def test_names_in_apposition(sentence: str, term: str, expected: bool) -> None:
    assert names_in_apposition(sentence, term) is expected


@pytest.mark.parametrize(("heading", "term", "expected"), [
    ("SVD", "SVD", True),
    ("MCU-Link", "MCU-Link", True),
    ("What is embedded-hal?", "embedded-hal", True),
    ("Typestate Programming", "typestate programming", True),
    ("MCU-Link is a debugging probe.", "MCU-Link", False),
    ("qemu-system-arm", "QEMU", False),
    ("Using SVD files", "SVD", False),
])
def test_names_term(heading: str, term: str, expected: bool) -> None:
    assert names_term(heading, term) is expected
