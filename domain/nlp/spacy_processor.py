"""spaCy `blank("ru")` with pymorphy3 tags and Matcher rules (weight 1.0)."""

from __future__ import annotations

from functools import lru_cache

from domain.nlp.base import Candidate, can_load, load_once
from domain.nlp.lexicon import (
    ATMOSPHERE,
    CHARACTER,
    DETERMINERS,
    LOCATION,
    LOCATIVE_PREPOSITIONS,
    OBJECT,
    SENSORY,
    SENSORY_VERBS,
    SOUNDS_AND_SMELLS,
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


@load_once
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@load_once
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
    # "в доме" names a setting; "в старом доме" describes it ("в другом доме" does not).
    some_adjective = {"POS": "ADJ", "LEMMA": {"NOT_IN": sorted(DETERMINERS)}, "OP": "+"}
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
    # A verb of colour, light, sound or smell describes by itself: "гремел гром", "пахло хлебом".
    matcher.add("SENSORY_VERB", [[{"POS": "VERB", "LEMMA": {"IN": sorted(SENSORY_VERBS)}}]])
    matcher.add("SOUND_OR_SMELL", [[{"POS": "NOUN", "LEMMA": {"IN": sorted(SOUNDS_AND_SMELLS)}}]])
    return nlp, matcher


class SpacyProcessor:
    name = "spacy"
    weight = 1.0
    cost = 1.0  # relative time per KB: lazy voting runs the cheapest first

    def available(self) -> bool:
        return can_load(_pipeline)

    def find(self, text: str) -> list[Candidate]:
        nlp, matcher = _pipeline()
        doc = nlp(text)
        found = []
        for match_id, start, end in matcher(doc, as_spans=False):
            span = doc[start:end]
            rule = nlp.vocab.strings[match_id]
            kind = kind_of(span[-1].lemma_) or ("atmosphere" if rule == "SENSORY_VERB" else "object")
            confidence = {"LOCATIVE": 0.7, "SENSORY_VERB": 0.5, "SOUND_OR_SMELL": 0.5}.get(rule, 0.6)
            found.append(Candidate(span.start_char, span.end_char, kind, confidence, self.name))
        return found
