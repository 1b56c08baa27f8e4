"""The service owns the local model: front ends only ask for it; the service decides, starts and stops it.

What needs the real llama.cpp server (start, supervision, restart) is in tests/llm; here: the memory
check, what the settings say when the model is not started, and the errors a front end shows.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rag.service import RagService
from rag.service.local_model import LocalModel, LocalModelError, available_memory_gib, memory_verdict


def meminfo(tmp_path: Path, available_kb: int) -> Path:
    path = tmp_path / "meminfo"
    path.write_text(f"MemTotal:       25165824 kB\nMemFree:         1000000 kB\nMemAvailable:   {available_kb} kB\n")
    return path


def test_memory_verdict_reads_mem_available(tmp_path: Path) -> None:
    assert available_memory_gib(meminfo(tmp_path, 2 * 2**20)) == 2.0
    ok, why = memory_verdict(3, meminfo(tmp_path, 2 * 2**20))
    assert not ok and why.startswith("MemAvailable 2.0 GiB < 3 GiB")
    ok, why = memory_verdict(3, meminfo(tmp_path, 4 * 2**20))
    assert ok and "4.0 GiB >= 3 GiB" in why
    assert memory_verdict(3, tmp_path / "missing")[0]  # no /proc/meminfo: start it, and say the check was skipped
    assert memory_verdict(None, tmp_path / "missing") == (True, "no memory check asked for")


def test_not_asked_for_changes_nothing(sample_settings) -> None:  # noqa: ANN001
    model = LocalModel(supervised=True)
    assert model.start(sample_settings) is sample_settings
    assert not model.running and model.status() is None and model.notes_since(0.0) == []
    model.stop()  # nothing to stop: harmless


def test_short_memory_serves_without_the_model_and_says_so(tmp_path: Path, sample_settings,  # noqa: ANN001
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="rag.service.local_model")
    model = LocalModel(supervised=True, meminfo=meminfo(tmp_path, 1 * 2**20))
    asked = sample_settings.model_copy(update={"local_llm": True, "local_llm_min_memory_gib": 3.0})
    answering = model.start(asked)
    assert answering.local_llm is False and answering.llm_base_url is None and not model.running
    assert model.start(asked) is answering  # decided once
    assert "Not starting the local model: MemAvailable 1.0 GiB < 3 GiB" in model.message
    assert any("MemAvailable 1.0 GiB < 3 GiB" in r.getMessage() for r in caplog.records)


def test_a_missing_model_file_is_a_service_error_with_advice(tmp_path: Path, sample_settings) -> None:  # noqa: ANN001
    settings = sample_settings.model_copy(update={"local_llm": True, "reader_gguf": tmp_path / "mine.gguf"})
    with RagService(settings) as service, pytest.raises(LocalModelError, match="RAG_READER_GGUF") as info:
        service.start()
    assert info.value.code == "local_llm_unavailable" and "mine.gguf" in info.value.message


def test_the_question_starts_what_was_asked_for(tmp_path: Path, sample_settings, embedder) -> None:  # noqa: ANN001
    # A search first builds the assistant; the first question then starts the model (here: decides it does
    # not fit) and answers through the settings that decision gave, on the same loaded encoder.
    settings = sample_settings.model_copy(update={"local_llm": True, "local_llm_min_memory_gib": 3.0})
    model = LocalModel(supervised=False, meminfo=meminfo(tmp_path, 2**20))
    with RagService(settings, embedder=embedder, local_model=model) as service:
        assert service.search("Old Expo exhibitors").hits
        before = service.assistant()
        answer = service.ask("How many exhibitors took part in the Old Expo?")
        assert service.settings.local_llm is False and service.assistant() is not before
        assert service.assistant().embedder is before.embedder
        assert answer.mode == "extractive" and not answer.refused
