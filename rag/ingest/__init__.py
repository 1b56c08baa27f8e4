"""Files -> Article: discover.load_paths walks and dispatches; one loader module per format.

Every loader has the same contract: `load(path, source=None) -> LoadResult`, raising
errors.LoadError (message says what to do) when the whole file is unusable.
"""

from rag.ingest.discover import load_paths
from rag.ingest.errors import LoadError
from rag.ingest.normalize import normalize_text

__all__ = ["LoadError", "load_paths", "normalize_text"]
