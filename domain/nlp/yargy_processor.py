"""yargy grammars (installed with Natasha), in Stanza's place (weight 0.8)."""

from __future__ import annotations

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
    kind_of,
)

#: A match is at most a trigger word, three adjectives and a noun.
WINDOW = 5


@load_once
def _tokenizer():
    from yargy.tokenizer import PUNCT, RUSSIAN, MorphTokenizer, Token

    class TriggerWindows(MorphTokenizer):
        """Only the tokens a rule could match: windows starting at a trigger word, joined by a full stop.

        Every rule starts with a locative preposition or a sensory word, so the Earley chart need not
        hold the rest of the text; the full stop keeps two windows from matching as one.
        """

        def __call__(self, text):
            tokens = list(super(MorphTokenizer, self).__call__(text))
            keep = [False] * len(tokens)
            for i, token in enumerate(tokens):
                if token.type == RUSSIAN and _is_trigger(token.value.lower(), self.morph):
                    keep[i : i + WINDOW] = [True] * len(keep[i : i + WINDOW])
            for i, token in enumerate(tokens):
                if not keep[i]:
                    continue
                if i and not keep[i - 1]:
                    yield Token(".", token.span, PUNCT)
                yield token.morphed(self.morph(token.value)) if token.type == RUSSIAN else token

    return TriggerWindows()


def _is_trigger(word: str, morph) -> bool:
    return word in LOCATIVE_PREPOSITIONS or not morph.normalized(word).isdisjoint(SENSORY | SENSORY_VERBS)


@load_once
def _parser():
    from yargy import Parser, and_, not_, or_, rule
    from yargy.pipelines import morph_pipeline  # noqa: F401  (keeps yargy's morph patches loaded)
    from yargy.predicates import dictionary, gram, in_caseless

    adjectives = gram("ADJF").optional().repeatable(max=3)
    # "в доме" names a setting; "в старом доме" describes it: a place needs an adjective.
    describing = and_(gram("ADJF"), not_(dictionary(DETERMINERS)))
    place = rule(in_caseless(LOCATIVE_PREPOSITIONS), describing.repeatable(max=3), dictionary(LOCATION))
    described = rule(dictionary(SENSORY), adjectives, dictionary(LOCATION | CHARACTER | ATMOSPHERE | OBJECT))
    # A verb of colour, light, sound or smell before the noun it tells of: "гремел гром".
    verb = dictionary(SENSORY_VERBS)
    sounding = rule(verb, adjectives, gram("NOUN"))
    return Parser(or_(place, described, sounding), tokenizer=_tokenizer())


class YargyProcessor:
    name = "yargy"
    weight = 0.8
    cost = 10.0  # relative time per KB: lazy voting runs the cheapest first

    def available(self) -> bool:
        return can_load(_parser)

    def find(self, text: str) -> list[Candidate]:
        found = []
        for match in _parser().findall(text):
            last = match.tokens[-1]
            lemma = last.forms[0].normalized if getattr(last, "forms", None) else last.value.lower()
            start, end = match.span
            found.append(Candidate(start, end, kind_of(lemma) or "atmosphere", 0.6, self.name))
        return found
