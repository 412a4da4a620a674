"""yargy grammars (installed with Natasha), in Stanza's place (weight 0.8)."""

from __future__ import annotations

from functools import cache

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


@cache
def _parser():
    from yargy import Parser, or_, rule
    from yargy.pipelines import morph_pipeline  # noqa: F401  (keeps yargy's morph patches loaded)
    from yargy.predicates import dictionary, gram, in_caseless

    adjectives = gram("ADJF").optional().repeatable(max=3)
    # "в доме" names a setting; "в старом доме" describes it: a place needs an adjective.
    place = rule(in_caseless(LOCATIVE_PREPOSITIONS), gram("ADJF").repeatable(max=3), dictionary(LOCATION))
    described = rule(dictionary(SENSORY), adjectives, dictionary(LOCATION | CHARACTER | ATMOSPHERE | OBJECT))
    return Parser(or_(place, described))


class YargyProcessor:
    name = "yargy"
    weight = 0.8

    def available(self) -> bool:
        try:
            _parser()
        except Exception:
            return False
        return True

    def find(self, text: str) -> list[Candidate]:
        found = []
        for match in _parser().findall(text):
            last = match.tokens[-1]
            lemma = last.forms[0].normalized if getattr(last, "forms", None) else last.value.lower()
            start, end = match.span
            found.append(Candidate(start, end, kind_of(lemma) or "object", 0.6, self.name))
        return found
