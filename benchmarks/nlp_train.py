"""Train the NLP processors on the corpus's train split and fit the ensemble on its dev split.

    python -m benchmarks.nlp_train [--only natasha,vectors,spacy,fit,modes]

Needs the `train` extra (scikit-learn): `pip install -e '.[train]'`. Writes, under `domain/nlp/data/`:

- `natasha.npz`, `vectors.npz`: multinomial logistic regressions (scikit-learn, L2, the strength
  chosen by log-loss on dev) over each processor's features, exported as arrays;
- `spacy_textcat/`: `spacy train` with `benchmarks/nlp_spacy.cfg` (the best model on dev);
- `ensemble.json`: per processor a Platt calibration and its own threshold (best F1 alone on dev);
  the voting weights and threshold (best F1 of soft voting on dev over a coarse grid, then the
  log-loss of the passages' scores; every cutoff judged by the mean dev F1 of the cutoffs within
  ±0.06 of it); the best single processor; and the mode `process_book` uses: the best of the five
  on dev, each run through `find_passages`.

The test split is never read here. Every step is seeded: a second run gives the same files.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.nlp_corpus import Passage, load
from domain.nlp.classifier import DATA, FITTED, calibrate, narrated_sentences
from domain.nlp.linear import CLASSES, LinearModel
from domain.nlp.speech import narration

ROOT = Path(__file__).resolve().parent.parent
SPACY_CONFIG = Path(__file__).parent / "nlp_spacy.cfg"
STRENGTHS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
WEIGHTS = (0.5, 0.75, 1.0, 1.25, 1.5)
CUTOFFS = tuple(round(x, 2) for x in np.arange(0.2, 0.81, 0.02))
#: Cutoffs on either side whose dev F1 is averaged with a cutoff's own (±0.06).
SMOOTHING = 3


def labels(passages: list[Passage]) -> np.ndarray:
    return np.array([CLASSES.index(p.label) for p in passages])


def train_linear(featurize, train: list[Passage], dev: list[Passage]) -> LinearModel:
    """The logistic regression whose regularization gives the lowest log-loss on dev."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.preprocessing import StandardScaler

    x_train = featurize([narration(p.text) for p in train])
    x_dev = featurize([narration(p.text) for p in dev])
    scaler = StandardScaler().fit(x_train)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    best = None
    for strength in STRENGTHS:
        model = LogisticRegression(C=strength, max_iter=3000).fit(
            (x_train - scaler.mean_) / scale, labels(train)
        )
        loss = log_loss(
            labels(dev), model.predict_proba((x_dev - scaler.mean_) / scale), labels=range(len(CLASSES))
        )
        print(f"    C={strength:<5} dev log-loss {loss:.3f}")
        if best is None or loss < best[0]:
            best = (loss, model)
    model = best[1]
    return LinearModel(scaler.mean_, scale, model.coef_, model.intercept_)


def natasha_features(texts: list[str]) -> np.ndarray:
    from domain.nlp.natasha_processor import features_of

    return np.concatenate([features_of(texts[i : i + 256]) for i in range(0, len(texts), 256)])


def vectors_features(texts: list[str]) -> np.ndarray:
    from domain.nlp.vectors_processor import features

    return np.stack([features(text) for text in texts])


def train_spacy(train: list[Passage], dev: list[Passage]) -> None:
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("ru")
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for name, passages in (("train", train), ("dev", dev)):
            docs = DocBin()
            for passage in passages:
                doc = nlp.make_doc(narration(passage.text))
                doc.cats = {label: float(label == passage.label) for label in CLASSES}
                docs.add(doc)
            paths[name] = Path(folder) / f"{name}.spacy"
            docs.to_disk(paths[name])
        output = Path(folder) / "out"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "spacy",
                "train",
                str(SPACY_CONFIG),
                "--output",
                str(output),
                "--code",
                str(ROOT / "domain/nlp/spacy_components.py"),
                "--paths.train",
                str(paths["train"]),
                "--paths.dev",
                str(paths["dev"]),
            ],
            check=True,
            cwd=ROOT,
        )
        target = DATA / "spacy_textcat"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(output / "model-best", target)
        # The shipped config names the corpus files of this run's temporary folder: name none, so a
        # second run writes the same files.
        config = target / "config.cfg"
        for path in paths.values():
            config.write_text(config.read_text().replace(f'"{path}"', "null"), encoding="utf-8")


def sentence_probabilities(processor, dev: list[Passage]) -> list[np.ndarray]:
    """Per dev passage, the processor's raw P(description) and P(kind) of each of its sentences."""
    rows = []
    for passage in dev:
        _, texts = narrated_sentences(passage.text)  # as find_passages reads them
        probabilities = np.zeros((len(texts), len(CLASSES)))
        probabilities[:, 0] = 1.0
        readable = [i for i, t in enumerate(texts) if sum(ch.isalpha() for ch in t) >= 3]
        if readable:
            probabilities[readable] = processor.raw_probabilities([texts[i] for i in readable])
        rows.append(probabilities)
    return rows


def platt(raw: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(a, b) of sigmoid(a · logit(p) + b) fitted to the passages' truth."""
    from sklearn.linear_model import LogisticRegression

    p = np.clip(raw, 1e-6, 1 - 1e-6)
    model = LogisticRegression(C=100.0).fit(np.log(p / (1 - p)).reshape(-1, 1), truth)
    return float(model.coef_[0][0]), float(model.intercept_[0])


def f1(predicted: np.ndarray, truth: np.ndarray) -> float:
    tp = float((predicted & truth).sum())
    return 2 * tp / max(float(predicted.sum() + truth.sum()), 1.0)


def best_cutoff(scores: np.ndarray) -> tuple[int, float]:
    """The index in CUTOFFS of the best cutoff by `scores` (dev F1 at each), and its smoothed F1.

    dev saturates: a lone best cutoff is often one passage's luck, so each cutoff is judged by the
    mean F1 of the cutoffs within ±SMOOTHING steps of it.
    """
    smoothed = [scores[max(0, i - SMOOTHING) : i + SMOOTHING + 1].mean() for i in range(len(scores))]
    i = int(np.argmax(smoothed))
    return i, float(smoothed[i])


def fit(dev: list[Passage]) -> dict:
    from domain.nlp.natasha_processor import NatashaProcessor
    from domain.nlp.spacy_processor import SpacyProcessor
    from domain.nlp.vectors_processor import VectorsProcessor

    FITTED.unlink(missing_ok=True)
    processors = [NatashaProcessor(), SpacyProcessor(), VectorsProcessor()]
    truth = np.array([p.descriptive for p in dev])
    kinds_truth = np.array([CLASSES.index(p.label) - 1 for p in dev])
    fitted: dict = {"processors": {}}
    calibrated: dict[str, list[np.ndarray]] = {}
    for processor in processors:
        rows = sentence_probabilities(processor, dev)
        passage_raw = np.array([1.0 - row[:, 0].min() for row in rows])
        curve = platt(passage_raw, truth)
        calibrated[processor.name] = [
            np.column_stack(
                [
                    [calibrate(1.0 - p, curve) for p in row[:, 0]],
                    row[:, 1:] / np.maximum(row[:, 1:].sum(1, keepdims=True), 1e-9),
                ]
            )
            for row in rows
        ]
        best_p = np.array([row[:, 0].max() for row in calibrated[processor.name]])
        scores = np.array([f1(best_p >= c, truth) for c in CUTOFFS])
        chosen = best_cutoff(scores)[0]
        cutoff, score = CUTOFFS[chosen], float(scores[chosen])
        fitted["processors"][processor.name] = {
            "calibration": curve,
            "threshold": cutoff,
            "dev_f1": round(score, 4),
        }
        print(
            f"  {processor.name}: calibration a={curve[0]:.2f} b={curve[1]:.2f}, "
            f"threshold {cutoff}, dev F1 {score:.3f}"
        )
    names = [p.name for p in processors]
    # All dev sentences stacked: column 0 calibrated P(description), 1–4 P(kind | description).
    stacked = np.stack([np.concatenate(calibrated[name]) for name in names])
    starts = np.cumsum([0] + [len(rows) for rows in calibrated[names[0]][:-1]])
    best = None
    for weights in itertools.product(WEIGHTS, repeat=len(names)):
        w = np.array(weights)[:, None]
        sentence_score = (w * stacked[:, :, 0]).sum(0) / w.sum()
        kind_votes = (w[:, :, None] * stacked[:, :, :1] * stacked[:, :, 1:]).sum(0)
        passage_score = np.maximum.reduceat(sentence_score, starts)
        best_sentence = [
            start + int(np.argmax(sentence_score[start:end]))
            for start, end in zip(starts, [*starts[1:], len(sentence_score)], strict=True)
        ]
        kinds = kind_votes[best_sentence].argmax(1)
        clipped = np.clip(passage_score, 1e-6, 1 - 1e-6)
        loss = -float(np.mean(np.where(truth, np.log(clipped), np.log(1 - clipped))))
        scores = np.array([f1(passage_score >= cutoff - 1e-9, truth) for cutoff in CUTOFFS])
        i, smoothed = best_cutoff(scores)
        key = (round(smoothed, 4), -round(loss, 4))  # the log-loss breaks what ties remain
        if best is None or key > best[0]:
            hits = (passage_score >= CUTOFFS[i] - 1e-9) & truth
            kind_accuracy = float((kinds[hits] == kinds_truth[hits]).mean()) if hits.any() else 0.0
            best = (key, weights, CUTOFFS[i], float(scores[i]), kind_accuracy)
    _, weights, cutoff, score, kind_accuracy = best
    for name, weight in zip(names, weights, strict=True):
        fitted["processors"][name]["weight"] = weight
    fitted["threshold"] = cutoff
    fitted["dev_f1"] = score
    fitted["dev_type_accuracy"] = kind_accuracy
    fitted["single"] = max(names, key=lambda n: fitted["processors"][n]["dev_f1"])
    fitted["book_mode"] = "ensemble"  # until `choose_mode` has run every mode on dev
    print(
        f"  ensemble: weights {dict(zip(names, weights, strict=True))}, threshold {cutoff}, "
        f"dev F1 {score:.3f}, type accuracy {kind_accuracy:.3f}"
    )
    return fitted


def choose_mode(dev: list[Passage]) -> dict:
    """Run every mode through `find_passages` on dev; the best F1 becomes the books' mode."""
    from benchmarks.nlp_quality import predictor, score
    from domain.nlp.ensemble import Mode, default_processors

    fitted = json.loads(FITTED.read_text(encoding="utf-8"))
    results = {mode: score(predictor(mode, default_processors()), dev) for mode in Mode}
    for mode, result in results.items():
        print(f"  mode {mode.value}: dev F1 {result.f1:.3f}, type accuracy {result.type_accuracy:.3f}")
    best = max(Mode, key=lambda mode: (round(results[mode].f1, 4), results[mode].type_accuracy))
    fitted["book_mode"] = best.value
    return fitted


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="natasha,vectors,spacy,fit,modes")
    steps = set(parser.parse_args().only.split(","))
    train, dev = load("train"), load("dev")
    DATA.mkdir(exist_ok=True)
    if "natasha" in steps:
        print("natasha: slovnet syntax, morphology, NER and navec prototypes → logistic regression")
        train_linear(natasha_features, train, dev).save(DATA / "natasha.npz")
    if "vectors" in steps:
        print("vectors: navec sentence vectors → logistic regression")
        train_linear(vectors_features, train, dev).save(DATA / "vectors.npz")
    if "spacy" in steps:
        print("spacy: textcat")
        train_spacy(train, dev)
    if "fit" in steps:
        print("fitting calibration, thresholds and voting on dev")
        FITTED.write_text(json.dumps(fit(dev), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if "modes" in steps:
        # A fresh process: the fitted numbers are read once per process, and this one may hold old ones.
        subprocess.run(
            [sys.executable, "-m", "benchmarks.nlp_train", "--only", "choose-mode"], check=True, cwd=ROOT
        )
    if "choose-mode" in steps:
        print("choosing the books' mode on dev")
        FITTED.write_text(json.dumps(choose_mode(dev), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
