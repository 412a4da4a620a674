"""The labelled corpus of `benchmarks/data/nlp_corpus.tsv`: 2,775 original Russian passages.

Columns: id, split (train / dev / test, fixed once by passage), label (location, character,
atmosphere, object or none), negative (what kind of non-description: dialogue, action, reasoning,
exposition, figurative, named, abstract, feeling, plain; mixed: a later round of the hard kinds)
and text. Ids `p…` are round 1, `r…` round 2 (written later, on purpose unlike round 1), `s…` round
3, `t…` round 4.
The labelling guide is in `docs/nlp.md`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent / "data" / "nlp_corpus.tsv"
#: 129 passages written after the models were trained, never trained, tuned or fitted on: scored only.
HELDOUT = Path(__file__).parent / "data" / "nlp_heldout.tsv"
#: Non-descriptions written to tempt a finder of descriptions.
HARD_NEGATIVES = frozenset(
    {"dialogue", "action", "reasoning", "exposition", "figurative", "named", "mixed", "abstract"}
)


@dataclass(frozen=True)
class Passage:
    id: str
    split: str
    label: str
    negative: str
    text: str

    @property
    def descriptive(self) -> bool:
        return self.label != "none"

    @property
    def hard_negative(self) -> bool:
        return self.negative in HARD_NEGATIVES


def load(split: str | None = None, path: Path = CORPUS) -> list[Passage]:
    """The passages of one split (all of them when `split` is None), in file order.

    Only `label` and `text` are required: a file without `split` counts as all `test`, a missing
    `id` becomes the row number and a missing `negative` is empty.
    """
    with path.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = [
            Passage(
                id=row.get("id") or f"row{number}",
                split=row.get("split") or "test",
                label=row["label"],
                negative=row.get("negative") or "",
                text=row["text"],
            )
            for number, row in enumerate(reader, start=1)
        ]
    return [row for row in rows if split is None or row.split == split]
