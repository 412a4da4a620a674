"""Natasha / slovnet: how the sentence is built, and what its words are about.

Evidence (all of it ships inside the natasha wheel; nothing is downloaded):

- slovnet **syntax**: attributive description (`amod` chains, participles), predicative description
  (an adjective as the root or under a copula: "Дом был невысокий"), comitative detail
  ("с покосившимся крыльцом"), places in `obl`/`nmod` with a preposition of place, adjectives joined by
  `conj`; and what marks a non-description: first and second person, finite verbs of the past,
  present or future, imperatives;
- slovnet **morphology**: the proportions of each part of speech, short forms, participles;
- **navec** semantic classes: each noun, adjective and verb is compared with prototypes (the mean
  vector of a dozen seed words) of a place, a body or appearance, weather-light-sound-smell, a thing,
  something abstract or mental; verbs with verbs of perceiving, thinking, speaking and acting. Nearest
  prototypes, not word lists: a word never seen in training still lands near its class;
- slovnet **NER**, only as a feature (how many people and places are named), never a verdict.

A multinomial logistic regression trained on the corpus's train split (`data/natasha.npz`) weighs
it all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from domain.nlp.base import can_load, load_once
from domain.nlp.classifier import DATA, TrainedProcessor
from domain.nlp.linear import LinearModel
from domain.nlp.morphology import analyse, embedding, tokens, vector

MODEL = DATA / "natasha.npz"

#: Seed words of each semantic class; a class is the mean of their navec vectors.
NOUN_PROTOTYPES = {
    "place": "дом комната улица лес поле река город двор берег гора сад зал дорога деревня площадь",
    "body": "лицо глаза волосы борода рука плечо нос губы рост платье шляпа кожа фигура",
    "senses": "туман дождь ветер свет тень запах звук шум тишина закат мороз небо снег солнце",
    "thing": "стол стул чашка нож книга шкатулка лампа машина сундук ковёр часы кольцо лодка",
    "abstract": "мысль решение вопрос причина проблема идея дело чувство жизнь работа деньги время",
}
ADJECTIVE_PROTOTYPES = {
    "visual": "красный белый тёмный старый деревянный мокрый высокий узкий круглый седой",
    "evaluative": "важный нужный возможный правильный хороший плохой главный серьёзный",
}
VERB_PROTOTYPES = {
    "perceive": "пахнуть сиять шуметь белеть блестеть звенеть темнеть журчать скрипеть",
    "think": "думать решить понять знать казаться хотеть помнить сомневаться считать",
    "speak": "сказать спросить ответить крикнуть говорить попросить шепнуть",
    "act": "взять пойти открыть бросить схватить вернуться побежать поставить сесть",
}
LOCATIVE = frozenset({"в", "во", "на", "у", "над", "под", "за", "перед", "среди", "около", "возле", "вдоль"})
UPOS = ("NOUN", "ADJ", "VERB", "AUX", "ADV", "PRON", "PROPN", "NUM", "ADP", "CCONJ", "DET", "PART")


@load_once
def _taggers():
    from natasha import NewsMorphTagger, NewsNERTagger, NewsSyntaxParser

    emb = embedding()
    morph, syntax, ner = NewsMorphTagger(emb), NewsSyntaxParser(emb), NewsNERTagger(emb)
    morph.batch_size = syntax.batch_size = ner.batch_size = 32
    return morph, syntax, ner, _prototypes()


@load_once
def _model() -> LinearModel:
    _taggers()
    return LinearModel.load(MODEL)


def _prototypes() -> dict[str, np.ndarray]:
    classes = {**NOUN_PROTOTYPES, **ADJECTIVE_PROTOTYPES, **VERB_PROTOTYPES}
    centroids = {}
    for name, seeds in classes.items():
        vectors = [v for v in (vector(word) for word in seeds.split()) if v is not None]
        mean = np.mean(vectors, axis=0)
        centroids[name] = mean / np.linalg.norm(mean)
    return centroids


def features_of(texts: Sequence[str]) -> np.ndarray:
    """One row of features per piece of narration (morphology, syntax and NER run in batches)."""
    morph, syntax, ner, prototypes = _taggers()
    token_lists = [tokens(text) or ["."] for text in texts]
    morphs = list(morph.map(token_lists))
    trees = list(syntax.map(token_lists))
    named = _named(ner, texts, token_lists)
    return np.stack(
        [
            _row(m.tokens, t.tokens, named[i], prototypes)
            for i, (m, t) in enumerate(zip(morphs, trees, strict=True))
        ]
    ).astype(np.float32)


def _named(ner, texts: Sequence[str], token_lists: list[list[str]]) -> list[tuple[int, int]]:
    """(people, places) named in each text; NER runs only where a word inside it is capitalized."""
    counts = [(0, 0)] * len(texts)
    for i, text in enumerate(texts):
        if any(word[:1].isupper() for word in token_lists[i][1:]):
            spans = ner(text).spans
            counts[i] = (
                sum(span.type == "PER" for span in spans),
                sum(span.type == "LOC" for span in spans),
            )
    return counts


def _row(morph_tokens, tree_tokens, named: tuple[int, int], prototypes: dict[str, np.ndarray]) -> np.ndarray:
    words = [i for i, token in enumerate(morph_tokens) if token.pos != "PUNCT"]
    n = max(len(words), 1)
    pos = [token.pos for token in morph_tokens]
    feats = [token.feats for token in morph_tokens]
    heads = [int(token.head_id) - 1 for token in tree_tokens]
    rels = [token.rel for token in tree_tokens]
    children: dict[int, list[int]] = {}
    for i, head in enumerate(heads):
        children.setdefault(head, []).append(i)

    def lower(i: int) -> str:
        return morph_tokens[i].text.lower()

    root = rels.index("root") if "root" in rels else 0
    predicative = sum(
        1
        for i in range(len(pos))
        if pos[i] == "ADJ"
        and (rels[i] == "root" or any(rels[c] in ("cop", "nsubj") for c in children.get(i, [])))
    )
    participles = sum(1 for f in feats if f.get("VerbForm") == "Part")
    short = sum(1 for f in feats if f.get("Variant") == "Short")
    amod = rels.count("amod")
    adjective_conj = sum(1 for i in range(len(pos)) if rels[i] == "conj" and pos[i] == "ADJ")

    def case_of(i: int) -> str:
        found = [lower(c) for c in children.get(i, []) if rels[c] == "case"]
        return found[0] if found else ""

    place_phrases = sum(
        1
        for i in range(len(pos))
        if pos[i] == "NOUN" and rels[i] in ("obl", "nmod") and case_of(i) in LOCATIVE
    )
    described_places = sum(
        1
        for i in range(len(pos))
        if pos[i] == "NOUN" and case_of(i) in LOCATIVE and any(rels[c] == "amod" for c in children.get(i, []))
    )
    comitative = sum(
        1
        for i in range(len(pos))
        if pos[i] == "NOUN"
        and case_of(i) in ("с", "со")
        and feats[i].get("Case") == "Ins"
        and any(rels[c] == "amod" for c in children.get(i, []))
    )
    finite = [
        f for p, f in zip(pos, feats, strict=True) if p in ("VERB", "AUX") and f.get("VerbForm") == "Fin"
    ]
    first_second = sum(1 for f in feats if f.get("Person") in ("1", "2"))
    tense = [sum(1 for f in finite if f.get("Tense") == t) / n for t in ("Past", "Pres", "Fut")]
    imperative = sum(1 for f in finite if f.get("Mood") == "Imp")
    upos = [pos.count(tag) / n for tag in UPOS]
    syntax_row = [
        predicative / n,
        float(predicative > 0),
        participles / n,
        short / n,
        amod / n,
        adjective_conj / n,
        place_phrases / n,
        described_places / n,
        float(comitative > 0),
        rels.count("cop") / n,
        rels.count("conj") / n,
        len(finite) / n,
        *tense,
        first_second / n,
        float(imperative > 0),
        float(pos[root] == "ADJ"),
        float(pos[root] == "NOUN"),
        float(pos[root] == "VERB"),
        math.log1p(len(words)),
        sum(1 for token in morph_tokens if token.text == ",") / n,
        named[0] / n,
        named[1] / n,
    ]
    return np.concatenate([upos, syntax_row, _semantics(morph_tokens, prototypes)])


def _semantics(morph_tokens, prototypes: dict[str, np.ndarray]) -> np.ndarray:
    """Per prototype class: the highest and the mean similarity of the words it applies to."""
    groups = {
        "NOUN": list(NOUN_PROTOTYPES),
        "ADJ": list(ADJECTIVE_PROTOTYPES),
        "VERB": list(VERB_PROTOTYPES),
    }
    columns: list[float] = []
    for tag, classes in groups.items():
        vectors = []
        for token in morph_tokens:
            if token.pos != tag and not (tag == "ADJ" and token.feats.get("VerbForm") == "Part"):
                continue
            word = token.text.lower()
            found = vector(analyse(word)[1])
            if found is None:
                found = vector(word)
            if found is not None:
                vectors.append(found)
        if not vectors:
            columns += [0.0] * (2 * len(classes))
            continue
        matrix = np.stack(vectors)
        for name in classes:
            similarity = matrix @ prototypes[name]
            columns += [float(similarity.max()), float(similarity.mean())]
    return np.array(columns)


class NatashaProcessor(TrainedProcessor):
    name = "natasha"
    default_weight = 1.2
    cost = 8.0  # relative time per KB (about 25 KB/s a core): lazy voting runs it last

    def available(self) -> bool:
        return MODEL.exists() and can_load(_model)

    def raw_probabilities(self, texts: list[str]) -> np.ndarray:
        return _model().probabilities(features_of(texts))
