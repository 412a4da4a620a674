"""Combine the processors: five modes, soft weighted voting per sentence, a calibrated priority.

Each processor gives every sentence it reads a calibrated P(description) and P(kind | description)
(`domain.nlp.classifier`). Modes:

- `single`: the processor that scored best on the dev split (`ensemble.json`), with its own threshold;
- `parallel`: a sentence any processor calls descriptive;
- `sequential`: heaviest processor first, each reading only the sentences the earlier ones left;
- `ensemble`: soft voting. A sentence's score is Σ weight × P(description) ÷ Σ weight; it is a passage
  when the score reaches the threshold fitted on dev (an exact tie reaches it);
- `adaptive`: one processor → `single`; a text under 500 characters → `parallel`; else `ensemble`.

Lazy voting: processors run cheapest first, and each reads only the sentences still undecided —
those whose score could still end on either side of the threshold, whatever the processors still to
come say (each adds between 0 and its weight). Natasha, the slowest, reads only those. The passages
are exactly those of asking every processor about every sentence; a passage's confidence is its
score over the processors that were asked about it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.nlp.base import Processor, load_once
from domain.nlp.classifier import NO_DESCRIPTION, Verdict, fitted, narrated_sentences
from domain.nlp.linear import KINDS

logger = logging.getLogger(__name__)

#: Used only when no fitted `ensemble.json` is present (a fresh checkout before training).
DEFAULT_THRESHOLD = 0.5
#: Voting compares floats; a score this close to the threshold counts as reaching it.
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
    confidence: float  # calibrated P(description): the soft vote, or the one processor's verdict
    consensus: float  # share of the asked processors' weight that alone called it a description
    processors: tuple[str, ...]  # the processors that alone called it a description
    priority_score: float
    confidences: dict[str, float] = field(default_factory=dict)  # each asked processor's P(description)


@load_once
def default_processors() -> tuple[Processor, ...]:
    """The processors that load here, heaviest weight first."""
    from domain.nlp.natasha_processor import NatashaProcessor
    from domain.nlp.spacy_processor import SpacyProcessor
    from domain.nlp.stanza_processor import StanzaProcessor
    from domain.nlp.vectors_processor import VectorsProcessor

    candidates = (NatashaProcessor(), SpacyProcessor(), VectorsProcessor(), StanzaProcessor())
    return tuple(sorted((p for p in candidates if p.available()), key=lambda p: -p.weight))


def warm_up() -> None:
    """Load every processor's models and run each once (a worker of the `books` queue does it at boot)."""
    for processor in default_processors():
        judge(processor, ["Прогрев моделей: старый дом у реки."])


def threshold() -> float:
    try:
        return fitted()["threshold"]
    except FileNotFoundError:
        return DEFAULT_THRESHOLD


def book_mode() -> Mode:
    """The mode that scored best on the dev split: the one `process_book` uses."""
    try:
        return Mode(fitted()["book_mode"])
    except FileNotFoundError:
        return Mode.ENSEMBLE


def best_single(processors: Sequence[Processor]) -> Processor:
    """The processor that scored best alone on dev, if present; else the heaviest."""
    try:
        name = fitted()["single"]
    except FileNotFoundError:
        name = None
    named = [p for p in processors if p.name == name]
    return named[0] if named else max(processors, key=lambda p: p.weight)


def judge(processor: Processor, sentences: list[str]) -> list[Verdict]:
    """`processor`'s verdicts on sentences whose speech is blanked already; a processor that only
    finds spans (Stanza) gives its confidence."""
    if hasattr(processor, "judge"):
        return processor.judge(sentences, narrated=True)
    verdicts = []
    for sentence in sentences:
        found = processor.find(sentence)
        if not found:
            verdicts.append(NO_DESCRIPTION)
            continue
        best = max(found, key=lambda c: c.confidence)
        verdicts.append(Verdict(best.confidence, tuple(float(k == best.kind) for k in KINDS)))
    return verdicts


def own_threshold(processor: Processor) -> float:
    return getattr(processor, "threshold", 0.5)


def find_passages(text: str, mode: Mode | str = Mode.ENSEMBLE, processors=None) -> list[Passage]:
    """Descriptive sentences of `text`, best first; falls back to the best single processor on failure."""
    processors = tuple(processors if processors is not None else default_processors())
    if not processors:
        return []
    mode = Mode(mode)
    if mode == Mode.ADAPTIVE:
        if len(processors) == 1:
            mode = Mode.SINGLE
        else:
            mode = Mode.PARALLEL if len(text) < SHORT_TEXT else Mode.ENSEMBLE
    spans, sentences = narrated_sentences(text)
    try:
        votes = _votes(sentences, mode, processors)
    except Exception:
        logger.exception("Mode %s failed; falling back to the best single processor.", mode.value)
        votes = _votes(sentences, Mode.SINGLE, processors)
    passages = [
        _passage(text, span, vote) for span, vote in zip(spans, votes, strict=True) if vote is not None
    ]
    return sorted(passages, key=lambda p: (-p.priority_score, p.start))


@dataclass
class Vote:
    """What the processors asked about a sentence that passes said, and its score."""

    verdicts: dict[str, tuple[float, Verdict, bool]]  # name → (weight, verdict, called by itself)
    score: float


def _votes(sentences: list[str], mode: Mode, processors: tuple[Processor, ...]) -> list[Vote | None]:
    if mode == Mode.ENSEMBLE:
        return soft_vote(sentences, processors, threshold())
    if mode == Mode.SINGLE:
        chosen: Sequence[Processor] = [best_single(processors)]
    else:
        chosen = sorted(processors, key=lambda p: -p.weight)
    asked: list[dict] = [{} for _ in sentences]
    open_sentences = list(range(len(sentences)))
    for processor in chosen:
        verdicts = judge(processor, [sentences[i] for i in open_sentences])
        for i, verdict in zip(open_sentences, verdicts, strict=True):
            asked[i][processor.name] = (
                processor.weight,
                verdict,
                verdict.description >= own_threshold(processor),
            )
        if mode == Mode.SEQUENTIAL:
            open_sentences = [i for i in open_sentences if not any(v[2] for v in asked[i].values())]
    votes: list[Vote | None] = []
    for verdicts in asked:
        called = [verdict.description for _, verdict, yes in verdicts.values() if yes]
        votes.append(Vote(verdicts, max(called)) if called else None)
    return votes


def soft_vote(sentences: list[str], processors: Sequence[Processor], cutoff: float) -> list[Vote | None]:
    """Lazy soft voting (see the module docstring): a Vote for each sentence that passes."""
    total = sum(p.weight for p in processors)
    needed = cutoff * total - TIE_EPSILON
    support = [0.0] * len(sentences)
    asked: list[dict] = [{} for _ in sentences]
    remaining = total
    for processor in sorted(processors, key=lambda p: getattr(p, "cost", 1.0)):
        remaining -= processor.weight
        undecided = [
            i
            for i in range(len(sentences))
            if support[i] < needed and support[i] + processor.weight + remaining >= needed
        ]
        verdicts = judge(processor, [sentences[i] for i in undecided]) if undecided else []
        for i, verdict in zip(undecided, verdicts, strict=True):
            support[i] += processor.weight * verdict.description
            called = verdict.description >= own_threshold(processor)
            asked[i][processor.name] = (processor.weight, verdict, called)
    votes: list[Vote | None] = []
    for i in range(len(sentences)):
        if support[i] < needed:
            votes.append(None)
            continue
        weight = sum(w for w, _, _ in asked[i].values())
        votes.append(Vote(asked[i], support[i] / weight))
    return votes


def _passage(text: str, span: tuple[int, int], vote: Vote) -> Passage:
    start, end = span
    asked_weight = sum(w for w, _, _ in vote.verdicts.values())
    kind_votes = [
        sum(w * verdict.description * verdict.kinds[k] for w, verdict, _ in vote.verdicts.values())
        for k in range(len(KINDS))
    ]
    callers = tuple(sorted(name for name, (_, _, yes) in vote.verdicts.items() if yes))
    consensus = sum(vote.verdicts[name][0] for name in callers) / asked_weight
    return Passage(
        start=start,
        end=end,
        text=text[start:end],
        kind=KINDS[max(range(len(KINDS)), key=kind_votes.__getitem__)],
        confidence=round(vote.score, 4),
        consensus=round(consensus, 4),
        processors=callers,
        priority_score=round(vote.score, 4),
        confidences={name: round(verdict.description, 4) for name, (_, verdict, _) in vote.verdicts.items()},
    )
