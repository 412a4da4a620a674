"""A trained multinomial linear model, stored as plain arrays: inference is numpy alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: What every trained processor predicts, in this order.
CLASSES = ("none", "location", "character", "atmosphere", "object")
KINDS = CLASSES[1:]


@dataclass(frozen=True)
class LinearModel:
    """Standardized features → softmax over `CLASSES` (a scikit-learn LogisticRegression, exported)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        with np.load(path) as arrays:
            return cls(*(arrays[name].astype(np.float32) for name in ("mean", "scale", "coef", "intercept")))

    def save(self, path: Path) -> None:
        np.savez_compressed(path, mean=self.mean, scale=self.scale, coef=self.coef, intercept=self.intercept)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Rows of class probabilities, one per row of `features`."""
        logits = ((features - self.mean) / self.scale) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)
