"""spaCy: a text classifier trained with `spacy train` on the corpus's train split.

The pipeline (`data/spacy_textcat/`, under 5 MB) is `blank("ru")`'s tokenizer, pymorphy3 lemmas
(`spacy_components`) and a `textcat` with exclusive classes: a bag of words beside a small CNN over
hashed norms, lemmas, prefixes and suffixes (`benchmarks/nlp_spacy.cfg`). It reads word forms and
their neighbours, the evidence the other two processors do not see. Loaded from the package folder,
offline.
"""

from __future__ import annotations

import numpy as np

from domain.nlp.base import can_load, load_once
from domain.nlp.classifier import DATA, TrainedProcessor
from domain.nlp.linear import CLASSES

PIPELINE = DATA / "spacy_textcat"


@load_once
def _pipeline():
    import spacy

    import domain.nlp.spacy_components  # noqa: F401  (registers the lemma component)

    return spacy.load(PIPELINE)


class SpacyProcessor(TrainedProcessor):
    name = "spacy"
    cost = 2.5  # relative time per KB (about 80 KB/s a core): lazy voting runs the cheapest first

    def available(self) -> bool:
        return (PIPELINE / "config.cfg").exists() and can_load(_pipeline)

    def raw_probabilities(self, texts: list[str]) -> np.ndarray:
        docs = _pipeline().pipe(texts, batch_size=64)
        return np.array([[doc.cats.get(label, 0.0) for label in CLASSES] for doc in docs], dtype=np.float32)
