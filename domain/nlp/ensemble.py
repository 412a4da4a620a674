"""Combine the processors: five modes, weighted voting, whole-sentence passages, a priority score.

Candidates are widened to their whole sentence (razdel) before anything else, so processors that
flag the same sentence agree even when they point at different words of it.

Voting (mode `ensemble`): a sentence's support is the summed weight of the distinct processors that
found something in it, its consensus support ÷ the summed weight of the processors that ran. It
survives when consensus ≥ threshold (0.6). An exact tie at the threshold survives: with weights
1.2 / 1.0 / 0.8, spaCy and yargy together (1.8 of 3.0 = 0.6) carry a passage, as any two processors
do, while no single one does.

Lazy voting: processors run cheapest first (spaCy, yargy, Natasha), and each one reads only the
sentences still undecided: not yet at the threshold, and able to reach it if this processor and every
later one agreed. Natasha, the heaviest, reads only sentences where exactly one of spaCy and yargy
found something. The survivors are exactly those of asking everyone; a passage's consensus is the
share of the weight of the processors asked about its sentence that agreed (spaCy and yargy agreeing
on a sentence Natasha was not asked about is 1.0).
"""

from __future__ import annotations

import bisect
import enum
import logging
from collections import defaultdict
from dataclasses import dataclass, replace

from domain.nlp.base import Candidate, Processor, load_once
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


@load_once
def default_processors() -> tuple[Processor, ...]:
    """The processors that load here, heaviest weight first."""
    from domain.nlp.natasha_processor import NatashaProcessor
    from domain.nlp.spacy_processor import SpacyProcessor
    from domain.nlp.stanza_processor import StanzaProcessor
    from domain.nlp.yargy_processor import YargyProcessor

    candidates = (NatashaProcessor(), SpacyProcessor(), YargyProcessor(), StanzaProcessor())
    return tuple(p for p in candidates if p.available())


def warm_up() -> None:
    """Load every processor's models and run each once (a worker of the `books` queue does it at boot)."""
    for processor in default_processors():
        processor.find("Прогрев моделей: старый дом у реки.")


def find_passages(text: str, mode: Mode | str = Mode.ENSEMBLE, processors=None) -> list[Passage]:
    """Descriptive sentences of `text`, best first; falls back to the best single processor on failure."""
    processors = tuple(processors if processors is not None else default_processors())
    if not processors:
        return []
    mode = Mode(mode)
    sentences = _sentences(text)
    voting = mode == Mode.ENSEMBLE or (
        mode == Mode.ADAPTIVE and len(processors) > 1 and len(text) >= SHORT_TEXT
    )
    try:
        candidates, ran, asked = _candidates(text, sentences, mode, processors, voting)
    except Exception:
        logger.exception("Mode %s failed; falling back to the best single processor.", mode.value)
        candidates, ran, asked = _candidates(text, sentences, Mode.SINGLE, processors, False)
        voting = False
    return _passages(text, sentences, candidates, ran, voting, asked)


def _candidates(
    text: str, sentences: list[tuple[int, int]], mode: Mode, processors: tuple[Processor, ...], voting: bool
) -> tuple[list[Candidate], list, dict[tuple[int, int], float]]:
    """(candidates, processors that ran, weight asked per sentence where not all of them were)."""
    best = max(processors, key=lambda p: p.weight)
    if mode == Mode.SINGLE or (mode == Mode.ADAPTIVE and len(processors) == 1):
        return best.find(text), [best], {}
    if voting:
        candidates, asked = _lazy_vote(text, sentences, processors)
        return candidates, list(processors), asked
    if mode == Mode.SEQUENTIAL:
        kept: list[Candidate] = []
        for processor in sorted(processors, key=lambda p: -p.weight):
            kept += [c for c in processor.find(text) if not any(c.overlaps(k) for k in kept)]
        return kept, list(processors), {}
    return [c for p in processors for c in p.find(text)], list(processors), {}


def _lazy_vote(
    text: str, sentences: list[tuple[int, int]], processors: tuple[Processor, ...]
) -> tuple[list[Candidate], dict[tuple[int, int], float]]:
    """Candidates from each processor on the sentences still undecided (cheapest first), and per
    sentence the weight of the processors that were asked."""
    needed = THRESHOLD * sum(p.weight for p in processors) - TIE_EPSILON
    remaining = sum(p.weight for p in processors)
    support = [0.0] * len(sentences)
    asked = [0.0] * len(sentences)
    candidates: list[Candidate] = []
    for processor in sorted(processors, key=lambda p: getattr(p, "cost", 1.0)):
        remaining -= processor.weight
        undecided = [
            i for i, s in enumerate(support) if s < needed and s + processor.weight + remaining >= needed
        ]
        for i in undecided:
            asked[i] += processor.weight
        found = _find_in(processor, text, sentences, undecided)
        for i in {_sentence_index(sentences, c.start) for c in found} - {None}:
            support[i] += processor.weight
        candidates += found
    return candidates, {span: weight for span, weight in zip(sentences, asked, strict=True) if weight}


def _find_in(
    processor: Processor, text: str, sentences: list[tuple[int, int]], chosen: list[int]
) -> list[Candidate]:
    """`processor.find` over the chosen sentences only, offsets mapped back to `text`."""
    if len(chosen) == len(sentences):
        return processor.find(text)
    if not chosen:
        return []
    starts, parts, offset = [], [], 0
    for i in chosen:
        start, end = sentences[i]
        starts.append((offset, start))
        parts.append(text[start:end])
        offset += end - start + 1
    found = []
    for c in processor.find("\n".join(parts)):
        shift = starts[bisect.bisect_right(starts, (c.start, float("inf"))) - 1]
        found.append(replace(c, start=c.start - shift[0] + shift[1], end=c.end - shift[0] + shift[1]))
    return found


def _passages(
    text: str,
    sentences: list[tuple[int, int]],
    candidates: list[Candidate],
    ran: list,
    voting: bool,
    asked: dict[tuple[int, int], float],
) -> list[Passage]:
    weights = {p.name: p.weight for p in ran}
    total = sum(weights.values())
    by_sentence: dict[tuple[int, int], list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        index = _sentence_index(sentences, candidate.start)
        span = sentences[index] if index is not None else (candidate.start, candidate.end)
        by_sentence[span].append(candidate)
    if voting:
        by_sentence = {
            span: members
            for span, members in by_sentence.items()
            if sum(weights[name] for name in {c.processor for c in members}) / total + TIE_EPSILON
            >= THRESHOLD
        }
    passages = [
        _passage(text, span, members, weights, asked.get(span, total))
        for span, members in by_sentence.items()
    ]
    return sorted(passages, key=lambda p: (-p.priority_score, p.start))


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


def _sentence_index(sentences: list[tuple[int, int]], offset: int) -> int | None:
    index = bisect.bisect_right(sentences, (offset, float("inf"))) - 1
    if index >= 0 and sentences[index][0] <= offset < sentences[index][1]:
        return index
    return None


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans, by razdel (rule-based, ships with Natasha)."""
    from razdel import sentenize

    return [(s.start, s.stop) for s in sentenize(text)]
