"""The `rag` command line (rag/cli/main.py assembles it)."""

import os

# Offline before anything can import the Hugging Face libraries: they read these at import time, and a
# command must never reach for the hub (the packaged model is local). Here, not in main.py, because the
# package runs first whichever CLI module is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
