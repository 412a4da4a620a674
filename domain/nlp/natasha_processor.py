"""Natasha/slovnet: named places and people, and sensory adjective + noun phrases (weight 1.2)."""

from __future__ import annotations

from domain.nlp.base import Candidate, can_load, load_once
from domain.nlp.lexicon import DETERMINERS, LOCATIVE_PREPOSITIONS, SENSORY, kind_of

NER_KINDS = {"LOC": ("location", 0.8), "PER": ("character", 0.7)}


@load_once
def _models():
    """Load once per process; the models ship inside the natasha/slovnet wheels (no download)."""
    from natasha import MorphVocab, NewsEmbedding, NewsMorphTagger, NewsNERTagger, Segmenter

    embedding = NewsEmbedding()
    morph, ner = NewsMorphTagger(embedding), NewsNERTagger(embedding)
    morph.batch_size = ner.batch_size = 32  # larger numpy batches than slovnet's 8: a few % faster
    return Segmenter(), morph, ner, MorphVocab()


def _lemma(token, vocab) -> str:
    if token.lemma is None:
        token.lemmatize(vocab)
    return token.lemma


class NatashaProcessor:
    name = "natasha"
    weight = 1.2
    cost = 20.0  # relative time per KB: lazy voting runs the cheapest first

    def available(self) -> bool:
        return can_load(_models)

    def find(self, text: str) -> list[Candidate]:
        from natasha import Doc

        segmenter, morph_tagger, ner_tagger, vocab = _models()
        doc = Doc(text)
        doc.segment(segmenter)
        doc.tag_morph(morph_tagger)
        doc.tag_ner(ner_tagger)
        found = [
            Candidate(span.start, span.stop, *NER_KINDS[span.type], self.name)
            for span in doc.spans
            if span.type in NER_KINDS
        ]
        tokens = doc.tokens
        for i, token in enumerate(tokens):
            # Lemmatizing is the slow part: only tokens that can start a phrase, and its head noun.
            sensory = token.pos in ("ADJ", "VERB") and _lemma(token, vocab) in SENSORY  # VERB: participles
            locative = token.pos == "ADP" and token.text.lower() in LOCATIVE_PREPOSITIONS
            if sensory or locative:
                found += self._phrase(tokens, i, locative)
        return found

    def _phrase(self, tokens, i: int, locative: bool) -> list[Candidate]:
        """The noun phrase starting at token `i`.

        A sensory word makes any noun it qualifies a description (the morphology decides, not the
        lexicon); a locative phrase needs a place the lexicon knows and an adjective: "в доме" only
        names a setting, "в старом доме" describes it.
        """
        modifiers = 0
        for follower in tokens[i + 1 : i + 5]:
            if follower.pos == "NOUN":
                kind = kind_of(_lemma(follower, _models()[3]))
                if locative and (kind != "location" or not modifiers):
                    return []
                kind = kind or "object"
                return [Candidate(tokens[i].start, follower.stop, kind, 0.7 if locative else 0.6, self.name)]
            modifiers += follower.pos == "ADJ" and _lemma(follower, _models()[3]) not in DETERMINERS
            if follower.pos not in ("ADJ", "CCONJ", "PUNCT", "ADV", "VERB"):
                return []
        return []
