"""What every processor returns: candidate spans with a kind and a confidence."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Candidate:
    """A span of the text a processor thinks is descriptive."""

    start: int
    end: int
    kind: str
    confidence: float
    processor: str

    def overlaps(self, other: Candidate) -> bool:
        return self.start < other.end and other.start < self.end


class Processor(Protocol):
    """A named, weighted finder of candidates; models load lazily, once per process."""

    name: str
    weight: float
    cost: float  # relative time per KB of text

    def available(self) -> bool: ...

    def find(self, text: str) -> list[Candidate]: ...


def load_once(loader: Callable[[], T]) -> Callable[[], T]:
    """`loader`'s value, computed once per process even when worker threads ask at the same moment."""
    lock = threading.Lock()
    loaded: list[T] = []

    @functools.wraps(loader)
    def get() -> T:
        if not loaded:
            with lock:
                if not loaded:
                    loaded.append(loader())
        return loaded[0]

    return get


def can_load(loader: Callable[[], object]) -> bool:
    """True when `loader` (a processor's model loader) works here; its error is only a 'no'."""
    try:
        loader()
    except Exception:
        return False
    return True
