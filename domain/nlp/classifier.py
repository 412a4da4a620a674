"""What the trained processors share: sentences in, calibrated verdicts out.

Each processor predicts, for a piece of narration, the probabilities of `CLASSES` (none and the four
kinds). Its verdict on a sentence is P(description) = 1 − P(none), calibrated on the dev split
(Platt scaling: a logistic curve over the logit), and P(kind | description). Direct speech is blanked
first (`domain.nlp.speech`): a sentence that is all speech is never a description.

The fitted numbers (calibration, each processor's own threshold and weight, the ensemble's threshold,
the best single processor and mode) come from `domain/nlp/data/ensemble.json`, which
`python -m benchmarks.nlp_train` writes after training on the train split and fitting on dev.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from domain.nlp.base import Candidate, load_once
from domain.nlp.linear import KINDS
from domain.nlp.speech import narration

DATA = Path(__file__).parent / "data"
FITTED = DATA / "ensemble.json"


@dataclass(frozen=True)
class Verdict:
    """One processor's view of one sentence."""

    description: float  # calibrated P(description)
    kinds: tuple[float, ...]  # P(kind | description), in the order of KINDS

    @property
    def kind(self) -> str:
        return KINDS[int(np.argmax(self.kinds))]


NO_DESCRIPTION = Verdict(0.0, (0.25, 0.25, 0.25, 0.25))


@load_once
def fitted() -> dict:
    """The numbers fitted on the dev split (see the module docstring)."""
    return json.loads(FITTED.read_text(encoding="utf-8"))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans, by razdel (rule-based, ships with Natasha)."""
    from razdel import sentenize

    return [(s.start, s.stop) for s in sentenize(text)]


def narrated_sentences(text: str) -> tuple[list[tuple[int, int]], list[str]]:
    """The sentence spans of `text` and each sentence as the processors read it: speech is blanked
    in the whole text first, so a dialogue line's later sentences are speech too."""
    spans = sentence_spans(text)
    narrated = narration(text)
    return spans, [narrated[start:end] for start, end in spans]


def calibrate(probability: float, curve: list[float] | tuple[float, float]) -> float:
    """Platt scaling of a probability: sigmoid(a · logit(p) + b)."""
    a, b = curve
    p = min(max(probability, 1e-6), 1 - 1e-6)
    return 1.0 / (1.0 + math.exp(-(a * math.log(p / (1 - p)) + b)))


class TrainedProcessor:
    """A processor backed by a model trained on the corpus; subclasses give `raw_probabilities`."""

    name: str
    cost: float = 1.0
    default_weight = 1.0

    @property
    def weight(self) -> float:
        return self._fitted().get("weight", self.default_weight)

    @property
    def threshold(self) -> float:
        return self._fitted().get("threshold", 0.5)

    def _fitted(self) -> dict:
        return fitted()["processors"].get(self.name, {}) if FITTED.exists() else {}

    def raw_probabilities(self, texts: list[str]) -> np.ndarray:
        """Uncalibrated class probabilities (rows over CLASSES) of pieces of narration."""
        raise NotImplementedError

    def judge(self, sentences: list[str], *, narrated: bool = False) -> list[Verdict]:
        """A calibrated verdict on each sentence; speech is blanked first, unless the sentences are
        `narrated` already (cut from a text blanked whole, which sees a speech line's later sentences)."""
        texts = sentences if narrated else [narration(sentence) for sentence in sentences]
        readable = [i for i, text in enumerate(texts) if sum(ch.isalpha() for ch in text) >= 3]
        verdicts = [NO_DESCRIPTION] * len(sentences)
        if not readable:
            return verdicts
        probabilities = self.raw_probabilities([texts[i] for i in readable])
        curve = self._fitted().get("calibration", (1.0, 0.0))
        for i, row in zip(readable, probabilities, strict=True):
            kinds = row[1:] / max(float(row[1:].sum()), 1e-9)
            verdicts[i] = Verdict(calibrate(1.0 - float(row[0]), curve), tuple(float(k) for k in kinds))
        return verdicts

    def find(self, text: str) -> list[Candidate]:
        """Sentences of `text` this processor alone calls descriptive."""
        spans, sentences = narrated_sentences(text)
        verdicts = self.judge(sentences, narrated=True)
        return [
            Candidate(start, end, verdict.kind, round(verdict.description, 4), self.name)
            for (start, end), verdict in zip(spans, verdicts, strict=True)
            if verdict.description >= self.threshold
        ]
