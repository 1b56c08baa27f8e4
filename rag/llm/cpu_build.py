"""llama.cpp build flags derived from this CPU's own feature list, and a cache key for the wheel.

Why not `GGML_NATIVE=ON` (`-march=native`)? On Intel Sapphire Rapids it turns on llama.cpp's AMX
kernels, which segfaulted on the Q4_1 weights of our earlier model, SmolLM2-135M
(ggml_backend_amx_mul_mat; llama.cpp#16315, #20824): they stay off for every model. Why not one
switch for "has AVX-512"? AMD Zen 4 has AVX-512 VNNI but not the VEX-encoded AVX-VNNI: a build with `GGML_AVX_VNNI=ON` dies with SIGILL on its first completion there. So every
GGML_* instruction-set option is set explicitly (ggml defaults several to ON when NATIVE is OFF)
and each one from the kernel's own flag for that instruction set, never inferred from another.

Why not runtime dispatch (`GGML_BACKEND_DL` + `GGML_CPU_ALL_VARIANTS`)? It also builds the AMX
variant, and llama-cpp-python issue #2069 reports "no backends are loaded" with dynamic backends.

Runs as a script from the Makefile with the system Python (stdlib only, no package import):
    python rag/llm/cpu_build.py cmake-args          -> -DGGML_NATIVE=OFF -DGGML_AVX=ON ...
    python rag/llm/cpu_build.py key 0.3.36          -> 0.3.36-<hash of the args>
The key names the folder the wheel is built into, so a different flag set never reuses a wheel.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from collections.abc import Iterable
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")

# ggml option -> the /proc/cpuinfo flags ALL of which the CPU must report. GGML_AVX512 compiles
# with -mavx512f -mavx512cd -mavx512vl -mavx512dq -mavx512bw (ggml-cpu/CMakeLists.txt), so it needs
# all five; the AVX-512 sub-extensions also need GGML_AVX512's base set because ggml only uses
# them inside its AVX-512 code paths.
_AVX512_BASE = ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw")
X86_OPTIONS: dict[str, tuple[str, ...]] = {
    "GGML_SSE42": ("sse4_2",),
    "GGML_AVX": ("avx",),
    "GGML_AVX2": ("avx2",),
    "GGML_FMA": ("fma",),
    "GGML_F16C": ("f16c",),
    "GGML_BMI2": ("bmi2",),
    "GGML_AVX_VNNI": ("avx_vnni",),  # VEX-encoded AVX-VNNI: Intel Alder Lake+/SPR; NOT on Zen 4
    "GGML_AVX512": _AVX512_BASE,
    "GGML_AVX512_VBMI": (*_AVX512_BASE, "avx512vbmi"),
    "GGML_AVX512_VNNI": (*_AVX512_BASE, "avx512_vnni"),
    "GGML_AVX512_BF16": (*_AVX512_BASE, "avx512_bf16"),
}
# Always off, whatever the CPU reports: the AMX kernels crashed on Q4_1 weights (see above).
ALWAYS_OFF = ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16")
X86_MACHINES = {"x86_64", "amd64", "i386", "i686"}


def parse_cpu_flags(cpuinfo_text: str) -> frozenset[str]:
    """The flags every logical CPU reports (intersection: hybrid cores may differ).

    x86 kernels print `flags : ...`; ARM kernels print `Features : ...`.
    """
    per_cpu: list[set[str]] = []
    for line in cpuinfo_text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("flags", "Features"):
            per_cpu.append(set(value.split()))
    if not per_cpu:
        return frozenset()
    common = per_cpu[0]
    for flags in per_cpu[1:]:
        common &= flags
    return frozenset(common)


def cmake_options(flags: Iterable[str], machine: str = "x86_64") -> dict[str, bool]:
    """GGML_* option -> ON/OFF for a CPU with these /proc/cpuinfo flags."""
    have = set(flags)
    if machine.lower() not in X86_MACHINES:
        # No x86 instruction-set switches apply; -march=native is safe there (no AMX kernels).
        return {"GGML_NATIVE": True}
    options = {"GGML_NATIVE": False}
    for option, needed in X86_OPTIONS.items():
        options[option] = all(flag in have for flag in needed)
    for option in ALWAYS_OFF:
        options[option] = False
    return options


def cmake_args(flags: Iterable[str], machine: str = "x86_64") -> list[str]:
    """`-DGGML_X=ON|OFF` for every option, in a fixed order (the key depends on it)."""
    return [f"-D{name}={'ON' if on else 'OFF'}" for name, on in cmake_options(flags, machine).items()]


def build_key(version: str, args: Iterable[str], machine: str = "x86_64") -> str:
    """`<version>-<machine>-<12 hex>`: equal only for the same version, machine and flag set."""
    digest = hashlib.sha256("\n".join([version, machine.lower(), *args]).encode()).hexdigest()[:12]
    return f"{version}-{machine.lower()}-{digest}"


def this_cpu(cpuinfo: Path = CPUINFO) -> tuple[frozenset[str], str]:
    """(flags, machine) of the machine we run on; no flags when /proc/cpuinfo is unreadable."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    return parse_cpu_flags(text), platform.machine() or "unknown"


def main(argv: list[str]) -> int:
    flags, machine = this_cpu()
    args = cmake_args(flags, machine)
    if argv[:1] == ["cmake-args"]:
        print(" ".join(args))
        return 0
    if argv[:1] == ["key"] and len(argv) == 2:
        print(build_key(argv[1], args, machine))
        return 0
    print("usage: cpu_build.py cmake-args | key VERSION", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
