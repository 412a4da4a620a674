"""Combine the processors: five modes, weighted voting, whole-sentence passages, a priority score.

Voting (mode `ensemble`): candidates that overlap form a cluster; its support is the summed weight
of the distinct processors in it, its consensus support ÷ the summed weight of the processors that
ran. A cluster survives when consensus ≥ threshold (0.6). An exact tie at the threshold survives:
with weights 1.2 / 1.0 / 0.8, spaCy and yargy together (1.8 of 3.0 = 0.6) carry a passage, as any
two processors do, while no single one does.
"""

from __future__ import annotations

import bisect
import enum
import logging
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from domain.nlp.base import Candidate, Processor
from domain.nlp.lexicon import KINDS, SENSORY

logger = logging.getLogger(__name__)

THRESHOLD = 0.6
#: Voting compares floats; a consensus this close to the threshold counts as reaching it.
TIE_EPSILON = 1e-9
#: adaptive: texts shorter than this get the union (recall matters more on a short text).
SHORT_TEXT = 500


class Mode(enum.StrEnum):
    SINGLE = "single"
    PARALLEL = "parallel"
    SEQUENTIAL = "sequential"
    ENSEMBLE = "ensemble"
    ADAPTIVE = "adaptive"


@dataclass(frozen=True)
class Passage:
    """A whole sentence worth illustrating."""

    start: int
    end: int
    text: str
    kind: str
    confidence: float
    consensus: float
    processors: tuple[str, ...]
    priority_score: float


@cache
def default_processors() -> tuple[Processor, ...]:
    """The processors that load here, heaviest weight first."""
    from domain.nlp.natasha_processor import NatashaProcessor
    from domain.nlp.spacy_processor import SpacyProcessor
    from domain.nlp.yargy_processor import YargyProcessor

    candidates = (NatashaProcessor(), SpacyProcessor(), YargyProcessor())
    return tuple(p for p in candidates if p.available())


def find_passages(text: str, mode: Mode | str = Mode.ENSEMBLE, processors=None) -> list[Passage]:
    """Descriptive sentences of `text`, best first; falls back to the best single processor on failure."""
    processors = tuple(processors if processors is not None else default_processors())
    if not processors:
        return []
    mode = Mode(mode)
    try:
        candidates, ran = _candidates(text, mode, processors)
    except Exception:
        logger.exception("Mode %s failed; falling back to the best single processor.", mode.value)
        candidates, ran = _candidates(text, Mode.SINGLE, processors)
    voting = mode == Mode.ENSEMBLE or (mode == Mode.ADAPTIVE and len(ran) > 1 and len(text) >= SHORT_TEXT)
    return _passages(text, candidates, ran, voting)


def _candidates(text: str, mode: Mode, processors: tuple[Processor, ...]) -> tuple[list[Candidate], list]:
    best = max(processors, key=lambda p: p.weight)
    if mode == Mode.SINGLE or (mode == Mode.ADAPTIVE and len(processors) == 1):
        return best.find(text), [best]
    if mode == Mode.SEQUENTIAL:
        kept: list[Candidate] = []
        for processor in sorted(processors, key=lambda p: -p.weight):
            kept += [c for c in processor.find(text) if not any(c.overlaps(k) for k in kept)]
        return kept, list(processors)
    return [c for p in processors for c in p.find(text)], list(processors)


def _passages(text: str, candidates: list[Candidate], ran: list, voting: bool) -> list[Passage]:
    weights = {p.name: p.weight for p in ran}
    total = sum(weights.values())
    sentences = _sentences(text)
    by_sentence: dict[tuple[int, int], list[Candidate]] = defaultdict(list)
    for cluster in _clusters(candidates):
        support = sum(weights[name] for name in {c.processor for c in cluster})
        if voting and support / total + TIE_EPSILON < THRESHOLD:
            continue
        by_sentence[_sentence_around(sentences, cluster[0].start)].extend(cluster)
    passages = [_passage(text, span, members, weights, total) for span, members in by_sentence.items()]
    return sorted(passages, key=lambda p: -p.priority_score)


def _clusters(candidates: list[Candidate]) -> list[list[Candidate]]:
    clusters: list[list[Candidate]] = []
    for candidate in sorted(candidates, key=lambda c: (c.start, c.end)):
        if clusters and any(candidate.overlaps(member) for member in clusters[-1]):
            clusters[-1].append(candidate)
        else:
            clusters.append([candidate])
    return clusters


def _passage(
    text: str, span: tuple[int, int], members: list[Candidate], weights: dict, total: float
) -> Passage:
    start, end = span
    names = tuple(sorted({c.processor for c in members}))
    consensus = sum(weights[name] for name in names) / total
    kind_votes = {kind: sum(weights[c.processor] for c in members if c.kind == kind) for kind in KINDS}
    confidence = sum(c.confidence * weights[c.processor] for c in members) / sum(
        weights[c.processor] for c in members
    )
    sentence = text[start:end]
    words = sentence.lower().split()
    sensory = sum(1 for w in words if w.strip(".,;:!?«»—-")[:5] in SENSORY_STEMS) / max(len(words), 1)
    score = round(0.5 * consensus + 0.3 * confidence + 0.2 * min(sensory * 5, 1.0), 4)
    return Passage(
        start=start,
        end=end,
        text=sentence,
        kind=max(kind_votes, key=kind_votes.get),
        confidence=round(confidence, 4),
        consensus=round(consensus, 4),
        processors=names,
        priority_score=score,
    )


#: First five letters of sensory lemmas: a cheap way to count inflected sensory words in a sentence.
SENSORY_STEMS = frozenset(word[:5] for word in SENSORY)


def _sentence_around(sentences: list[tuple[int, int]], offset: int) -> tuple[int, int]:
    index = bisect.bisect_right(sentences, (offset, float("inf"))) - 1
    if index >= 0 and sentences[index][0] <= offset < sentences[index][1]:
        return sentences[index]
    return offset, offset


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans, by razdel (rule-based, ships with Natasha)."""
    from razdel import sentenize

    return [(s.start, s.stop) for s in sentenize(text)]
