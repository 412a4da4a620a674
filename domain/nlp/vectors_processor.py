"""Sentence vectors: navec embeddings averaged over the narration, and a trained linear model.

The third processor sees the sentence as a whole, as distributional semantics: the mean navec vector
of its content words, the mean vector of its adjectives and participles alone, and how much of it is
adjectives, nouns, verbs and pronouns (pymorphy3). A multinomial logistic regression, trained on the
corpus's train split (`python -m benchmarks.nlp_train`), turns them into class probabilities. Its
artifact is `data/vectors.npz` (a few hundred kilobytes).
"""

from __future__ import annotations

import math

import numpy as np

from domain.nlp.base import can_load, load_once
from domain.nlp.classifier import DATA, TrainedProcessor
from domain.nlp.linear import LinearModel
from domain.nlp.morphology import analyse, embedding, tokens, vector

MODEL = DATA / "vectors.npz"
DIMENSIONS = 300
CONTENT = frozenset({"NOUN", "ADJ", "PART", "VERB", "ADV"})
DESCRIBING = frozenset({"ADJ", "PART"})
COUNTED = ("ADJ", "PART", "NOUN", "VERB", "ADV", "PRON", "NUM", "ADP")


@load_once
def _model() -> LinearModel:
    embedding()
    return LinearModel.load(MODEL)


def words(text: str) -> list[str]:
    return [token.lower() for token in tokens(text) if token[:1].isalpha()]


def features(text: str) -> np.ndarray:
    """The processor's view of one piece of narration: 2 × 300 vector means and 11 proportions."""
    tokens = words(text)
    tags = [analyse(word) for word in tokens]
    content, describing = np.zeros(DIMENSIONS), np.zeros(DIMENSIONS)
    n_content = n_describing = 0
    for word, (pos, lemma) in zip(tokens, tags, strict=True):
        if pos not in CONTENT:
            continue
        found = vector(lemma)
        if found is None:
            found = vector(word)
        if found is None:
            continue
        content += found
        n_content += 1
        if pos in DESCRIBING:
            describing += found
            n_describing += 1
    total = max(len(tokens), 1)
    counts = [sum(pos == tag for pos, _ in tags) / total for tag in COUNTED]
    commas = text.count(",") / total
    shape = [math.log1p(len(tokens)), commas, float("?" in text or "!" in text)]
    return np.concatenate(
        [content / max(n_content, 1), describing / max(n_describing, 1), counts, shape]
    ).astype(np.float32)


class VectorsProcessor(TrainedProcessor):
    name = "vectors"
    cost = 1.0  # relative time per KB (about 200 KB/s a core): lazy voting runs the cheapest first

    def available(self) -> bool:
        return MODEL.exists() and can_load(_model)

    def raw_probabilities(self, texts: list[str]) -> np.ndarray:
        return _model().probabilities(np.stack([features(text) for text in texts]))
