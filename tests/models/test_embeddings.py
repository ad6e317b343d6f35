"""The packaged MiniLM model: vectors, and the kept vectors of texts asked for again."""

import numpy as np

from models import embeddings
from models.embeddings import embed, embed_kept


def test_kept_vectors_are_the_model_vectors_and_only_new_texts_are_embedded(monkeypatch):
    texts = ["A for loop visits each item of a sequence.", "A while loop repeats while its condition holds."]
    first = embed_kept(texts)
    assert first.shape == (2, 384)
    assert np.allclose(first, embed(texts), atol=1e-5)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)

    embedded = []  # what reaches the model on the second call: only the text not seen before
    monkeypatch.setattr(embeddings, "embed", lambda batch: embedded.extend(batch) or embed(batch))
    new = "Functions return values to their caller."
    again = embed_kept([texts[1], new, texts[1]])
    assert embedded == [new]
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2], first[1])
    assert np.allclose(again[1], embed([new])[0], atol=1e-5)
    assert embed_kept([]).shape == (0, 384)
