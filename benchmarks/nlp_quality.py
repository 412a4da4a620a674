"""Precision, recall and F1 of each processor and of the ensemble on a labelled set of Russian sentences.

    python -m benchmarks.nlp_quality

`benchmarks/data/nlp_labelled.tsv`: 1 = a passage worth illustrating, 0 = not. A method calls a sentence
descriptive when it returns a passage for it (each sentence is run as its own text).
"""

from __future__ import annotations

import csv
from pathlib import Path

from domain.nlp.ensemble import Mode, default_processors, find_passages

DATA = Path(__file__).parent / "data" / "nlp_labelled.tsv"


def load() -> list[tuple[int, str]]:
    with DATA.open(encoding="utf-8") as handle:
        return [(int(row["label"]), row["sentence"]) for row in csv.DictReader(handle, delimiter="\t")]


def scores(predict, rows) -> tuple[float, float, float]:
    tp = fp = fn = 0
    for label, sentence in rows:
        predicted = predict(sentence)
        tp += predicted and label
        fp += predicted and not label
        fn += (not predicted) and label
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate() -> dict[str, tuple[float, float, float]]:
    rows = load()
    processors = default_processors()
    results = {
        p.name: scores(lambda s, p=p: bool(find_passages(s, Mode.SINGLE, [p])), rows) for p in processors
    }
    results["ensemble"] = scores(lambda s: bool(find_passages(s, Mode.ENSEMBLE, processors)), rows)
    return results


def main() -> None:
    results = evaluate()
    print(f"\n{len(load())} labelled sentences\n\n  {'method':<10}{'precision':>10}{'recall':>8}{'F1':>7}")
    for name, (precision, recall, f1) in results.items():
        print(f"  {name:<10}{precision:>10.2f}{recall:>8.2f}{f1:>7.2f}")


if __name__ == "__main__":
    main()
