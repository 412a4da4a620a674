"""How well each processor and each mode finds descriptions, on the corpus's dev and test splits.

    python -m benchmarks.nlp_quality [--splits dev,test,heldout] [--corpus PATH]

Each passage is run as its own text through `find_passages`; a method calls it descriptive when it
returns at least one passage, and its type is the kind of the best one. Printed per method: precision,
recall and F1 of "descriptive", type accuracy (share of the true positives given the right kind), the
false-positive rate on hard negatives (dialogue, action, reasoning, exposition, figurative sensory
words, named places and people), and recall per type. `--corpus` takes any file of the same columns
(a `split` column is then optional: all rows count as `test`). The split `heldout` is the file
`benchmarks/data/nlp_heldout.tsv`: passages written after the models were trained, never trained or
fitted on.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from benchmarks.nlp_corpus import CORPUS, HELDOUT, Passage, load
from domain.nlp.ensemble import Mode, default_processors, find_passages
from domain.nlp.linear import KINDS


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    type_accuracy: float
    hard_negative_fp: float
    recall_by_type: dict[str, float]


def score(predict, passages: list[Passage]) -> Scores:
    """`predict(text)` → (descriptive, kind) over `passages`."""
    tp = fp = fn = right_kind = hard = hard_fp = 0
    found_by_type = dict.fromkeys(KINDS, 0)
    total_by_type = dict.fromkeys(KINDS, 0)
    for passage in passages:
        descriptive, kind = predict(passage.text)
        if passage.descriptive:
            total_by_type[passage.label] += 1
            if descriptive:
                tp += 1
                found_by_type[passage.label] += 1
                right_kind += kind == passage.label
            else:
                fn += 1
        elif descriptive:
            fp += 1
        if passage.hard_negative:
            hard += 1
            hard_fp += descriptive
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return Scores(
        precision=precision,
        recall=recall,
        f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        type_accuracy=right_kind / tp if tp else 0.0,
        hard_negative_fp=hard_fp / hard if hard else 0.0,
        recall_by_type={k: found_by_type[k] / total_by_type[k] if total_by_type[k] else 0.0 for k in KINDS},
    )


def predictor(mode: Mode, processors):
    def predict(text: str) -> tuple[bool, str | None]:
        passages = find_passages(text, mode, processors)
        return (True, passages[0].kind) if passages else (False, None)

    return predict


def evaluate(passages: list[Passage], processors=None) -> dict[str, Scores]:
    """Scores of each processor alone and of each mode."""
    processors = tuple(processors if processors is not None else default_processors())
    results = {p.name: score(predictor(Mode.SINGLE, [p]), passages) for p in processors}
    for mode in Mode:
        results[f"mode {mode.value}"] = score(predictor(mode, processors), passages)
    return results


def table(title: str, results: dict[str, Scores]) -> str:
    kinds = "".join(f"{k[:5]:>7}" for k in KINDS)
    lines = [title, f"  {'method':<18}{'P':>6}{'R':>6}{'F1':>6}{'type':>6}{'hardFP':>8}  recall:{kinds}"]
    for name, s in results.items():
        per_type = "".join(f"{s.recall_by_type[k]:>7.2f}" for k in KINDS)
        lines.append(
            f"  {name:<18}{s.precision:>6.2f}{s.recall:>6.2f}{s.f1:>6.2f}{s.type_accuracy:>6.2f}"
            f"{s.hard_negative_fp:>8.2f}         {per_type}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--splits", default="dev,test,heldout")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    options = parser.parse_args()
    for split in options.splits.split(","):
        passages = load(None, HELDOUT) if split == "heldout" else load(split, options.corpus)
        hard = sum(p.hard_negative for p in passages)
        print()
        print(table(f"{split}: {len(passages)} passages ({hard} hard negatives)", evaluate(passages)))


if __name__ == "__main__":
    main()
