"""spaCy `blank("ru")` with pymorphy3 tags and Matcher rules (weight 1.0)."""

from __future__ import annotations

from functools import cache, lru_cache

from domain.nlp.base import Candidate
from domain.nlp.lexicon import (
    ATMOSPHERE,
    CHARACTER,
    LOCATION,
    LOCATIVE_PREPOSITIONS,
    OBJECT,
    SENSORY,
    kind_of,
)

POS = {
    "ADJF": "ADJ",
    "ADJS": "ADJ",
    "PRTF": "ADJ",
    "NOUN": "NOUN",
    "PREP": "ADP",
    "VERB": "VERB",
    "ADVB": "ADV",
}


@lru_cache(maxsize=200_000)
def _analyse(word: str) -> tuple[str, str]:
    parse = _morph().parse(word)[0]
    return POS.get(str(parse.tag.POS), "X"), parse.normal_form


@cache
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@cache
def _pipeline():
    import spacy
    from spacy.language import Language
    from spacy.matcher import Matcher

    if "bookjobs_pymorphy" not in Language.factories:

        @Language.component("bookjobs_pymorphy")
        def tag(doc):
            for token in doc:
                if token.is_alpha:
                    token.pos_, token.lemma_ = _analyse(token.lower_)
            return doc

    nlp = spacy.blank("ru")
    nlp.add_pipe("bookjobs_pymorphy")
    matcher = Matcher(nlp.vocab)
    nouns = sorted(LOCATION | CHARACTER | ATMOSPHERE | OBJECT)
    sensory = {"POS": "ADJ", "LEMMA": {"IN": sorted(SENSORY)}}
    any_adjective = {"POS": "ADJ", "OP": "*"}
    some_adjective = {"POS": "ADJ", "OP": "+"}  # "в доме" names a setting; "в старом доме" describes it
    matcher.add("SENSORY_NOUN", [[sensory, any_adjective, {"POS": "NOUN", "LEMMA": {"IN": nouns}}]])
    matcher.add(
        "LOCATIVE",
        [
            [
                {"LOWER": {"IN": sorted(LOCATIVE_PREPOSITIONS)}},
                some_adjective,
                {"POS": "NOUN", "LEMMA": {"IN": sorted(LOCATION)}},
            ]
        ],
    )
    return nlp, matcher


class SpacyProcessor:
    name = "spacy"
    weight = 1.0

    def available(self) -> bool:
        try:
            _pipeline()
        except Exception:
            return False
        return True

    def find(self, text: str) -> list[Candidate]:
        nlp, matcher = _pipeline()
        doc = nlp(text)
        found = []
        for match_id, start, end in matcher(doc, as_spans=False):
            span = doc[start:end]
            kind = kind_of(span[-1].lemma_) or "object"
            confidence = 0.7 if nlp.vocab.strings[match_id] == "LOCATIVE" else 0.6
            found.append(Candidate(span.start_char, span.end_char, kind, confidence, self.name))
        return found
