"""llama.cpp build flags from /proc/cpuinfo: "works on AMD and Intel", testable on one machine.

The flag sets in data/cpuinfo/ were saved from real machines' /proc/cpuinfo `flags` lines: the AMD
EPYC (Zen 4) this project's CI runs on, an Intel Sapphire Rapids Xeon, a Haswell and a Sandy Bridge.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rag.llm.cpu_build import (
    ALWAYS_OFF,
    X86_OPTIONS,
    build_key,
    cmake_args,
    cmake_options,
    parse_cpu_flags,
    this_cpu,
)

DATA = Path(__file__).parent / "data" / "cpuinfo"
ROOT = Path(__file__).resolve().parents[2]


def flags(name: str) -> frozenset[str]:
    path = DATA / f"{name}.flags"
    assert path.is_file(), f"saved flag set missing: {path}"
    return frozenset(path.read_text().split())


def cpuinfo_text(*flag_lines: str) -> str:
    return "\n\n".join(f"processor\t: {i}\nvendor_id\t: X\nflags\t\t: {line}" for i, line in enumerate(flag_lines))


def test_amd_zen4_gets_avx512_vnni_but_not_avx_vnni() -> None:
    # The bug this fixes: GGML_AVX_VNNI=ON on Zen 4 -> SIGILL in libggml-cpu.so on the first completion.
    zen4 = flags("amd_epyc_zen4")
    assert "avx_vnni" not in zen4 and "avx512_vnni" in zen4  # the saved set is what the test claims
    opts = cmake_options(zen4)
    assert opts["GGML_AVX_VNNI"] is False
    for name in ("GGML_AVX512", "GGML_AVX512_VNNI", "GGML_AVX512_VBMI", "GGML_AVX512_BF16", "GGML_AVX2", "GGML_FMA"):
        assert opts[name] is True, name
    assert not any(opts[name] for name in ALWAYS_OFF)
    assert opts["GGML_NATIVE"] is False


def test_intel_sapphire_rapids_gets_avx_vnni_and_never_amx() -> None:
    spr = flags("intel_sapphire_rapids")
    assert {"avx_vnni", "amx_tile", "amx_int8", "amx_bf16"} <= spr
    opts = cmake_options(spr)
    assert opts["GGML_AVX_VNNI"] is True and opts["GGML_AVX512_VNNI"] is True and opts["GGML_AVX512_BF16"] is True
    # AMX segfaulted on Q4_1 weights (llama.cpp#16315): off even where the CPU has it.
    assert [opts[name] for name in ALWAYS_OFF] == [False, False, False]


def test_haswell_gets_avx2_and_no_avx512() -> None:
    opts = cmake_options(flags("intel_haswell"))
    assert opts["GGML_AVX2"] and opts["GGML_FMA"] and opts["GGML_F16C"] and opts["GGML_BMI2"]
    assert not any(opts[name] for name in X86_OPTIONS if name.startswith("GGML_AVX512") or name == "GGML_AVX_VNNI")


def test_sandy_bridge_gets_avx_only() -> None:
    # AVX without AVX2, FMA or F16C: nothing may be inferred from AVX being there.
    opts = cmake_options(flags("intel_sandy_bridge"))
    assert opts["GGML_AVX"] and opts["GGML_SSE42"]
    assert not opts["GGML_AVX2"] and not opts["GGML_FMA"] and not opts["GGML_F16C"] and not opts["GGML_BMI2"]


@pytest.mark.parametrize("missing", ["avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"])
def test_avx512_needs_every_flag_ggml_compiles_with(missing: str) -> None:
    # GGML_AVX512 compiles with -mavx512f -mavx512cd -mavx512vl -mavx512dq -mavx512bw.
    opts = cmake_options(flags("amd_epyc_zen4") - {missing})
    assert not opts["GGML_AVX512"]
    assert not opts["GGML_AVX512_VNNI"] and not opts["GGML_AVX512_BF16"] and not opts["GGML_AVX512_VBMI"]


@pytest.mark.parametrize("saved", ["amd_epyc_zen4", "intel_sapphire_rapids", "intel_haswell", "intel_sandy_bridge"])
def test_every_option_is_explicit_and_backed_by_its_own_flags(saved: str) -> None:
    # ggml defaults several options to ON when GGML_NATIVE is OFF: each must be set either way.
    have = flags(saved)
    args = cmake_args(have)
    names = [re.match(r"-D(\w+)=(ON|OFF)$", a).group(1) for a in args]  # type: ignore[union-attr]
    assert names == ["GGML_NATIVE", *X86_OPTIONS, *ALWAYS_OFF]
    for name, on in cmake_options(have).items():
        if on and name in X86_OPTIONS:
            assert set(X86_OPTIONS[name]) <= have, name


def test_hybrid_cores_use_the_flags_every_core_has() -> None:
    zen4 = " ".join(sorted(flags("amd_epyc_zen4")))
    without_avx512 = " ".join(sorted(f for f in flags("amd_epyc_zen4") if not f.startswith("avx512")))
    parsed = parse_cpu_flags(cpuinfo_text(zen4, without_avx512))
    assert "avx512f" not in parsed and "avx2" in parsed
    assert not cmake_options(parsed)["GGML_AVX512"]


def test_arm_builds_native_and_unreadable_cpuinfo_builds_baseline(tmp_path: Path) -> None:
    assert cmake_options({"asimd", "fp"}, machine="aarch64") == {"GGML_NATIVE": True}
    assert parse_cpu_flags("Features\t: fp asimd evtstrm\n") == {"fp", "asimd", "evtstrm"}
    missing, _ = this_cpu(tmp_path / "no-cpuinfo")
    assert missing == frozenset()
    assert not any(on for name, on in cmake_options(missing).items())  # nothing assumed


def test_wheel_key_changes_with_flags_version_and_machine() -> None:
    zen4, spr = cmake_args(flags("amd_epyc_zen4")), cmake_args(flags("intel_sapphire_rapids"))
    assert build_key("0.3.36", zen4) == build_key("0.3.36", list(zen4))
    assert build_key("0.3.36", zen4) != build_key("0.3.36", spr)
    assert build_key("0.3.36", zen4) != build_key("0.3.37", zen4)
    assert build_key("0.3.36", zen4) != build_key("0.3.36", zen4, machine="aarch64")
    assert re.fullmatch(r"0\.3\.36-x86_64-[0-9a-f]{12}", build_key("0.3.36", zen4))


def test_makefile_builds_into_a_folder_keyed_by_this_cpus_flags(tmp_path: Path) -> None:
    # `make -n -B` prints every command without running it: the wheel folder and the stamp carry the
    # key of exactly the CMake arguments the build gets.
    script = ROOT / "rag" / "llm" / "cpu_build.py"
    args = subprocess.run([sys.executable, str(script), "cmake-args"], capture_output=True, text=True, check=True).stdout.strip()
    key = subprocess.run([sys.executable, str(script), "key", "0.3.36"], capture_output=True, text=True, check=True).stdout.strip()
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    cache = tmp_path / "wheels"
    out = subprocess.run(["make", "-n", "-B", "local-llm", f"VENV={venv}", f"PYTHON={sys.executable}",
                          f"LLAMA_WHEEL_CACHE={cache}"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert f"CMAKE_ARGS='{args}'" in out
    assert f"-w {cache}/llama-cpp-python-{key}.tmp" in out
    assert "--no-cache-dir" in out  # pip's wheel cache is keyed by version only: never used
    assert f"touch {venv}/.local-llm-{key}" in out


@pytest.mark.llm
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed: run `make local-llm`")
def test_installed_llama_cpp_uses_only_instructions_this_cpu_has() -> None:
    # llama.cpp reports the instruction sets it was compiled with; each must be one this CPU reports.
    import llama_cpp  # noqa: PLC0415

    info = llama_cpp.llama_print_system_info().decode()
    compiled = {name for name, on in re.findall(r"(\w+) = (\d)", info) if on == "1"}
    have, _ = this_cpu()
    needs = {"AVX": "avx", "AVX2": "avx2", "AVX_VNNI": "avx_vnni", "F16C": "f16c", "FMA": "fma", "BMI2": "bmi2",
             "AVX512": "avx512f", "AVX512_VBMI": "avx512vbmi", "AVX512_VNNI": "avx512_vnni",
             "AVX512_BF16": "avx512_bf16", "AMX_INT8": "amx_int8"}
    unsupported = {name for name in compiled & set(needs) if needs[name] not in have}
    assert not unsupported, f"llama.cpp was built with {sorted(unsupported)} which this CPU lacks: {info}"
    assert "AMX_INT8" not in compiled
