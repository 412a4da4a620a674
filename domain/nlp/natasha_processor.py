"""Natasha/slovnet: named places and people, and sensory adjective + noun phrases (weight 1.2)."""

from __future__ import annotations

from functools import cache

from domain.nlp.base import Candidate
from domain.nlp.lexicon import SENSORY, kind_of

NER_KINDS = {"LOC": ("location", 0.8), "PER": ("character", 0.7)}


@cache
def _models():
    """Load once per process; the models ship inside the natasha/slovnet wheels (no download)."""
    from natasha import MorphVocab, NewsEmbedding, NewsMorphTagger, NewsNERTagger, Segmenter

    embedding = NewsEmbedding()
    return Segmenter(), NewsMorphTagger(embedding), NewsNERTagger(embedding), MorphVocab()


class NatashaProcessor:
    name = "natasha"
    weight = 1.2

    def available(self) -> bool:
        try:
            _models()
        except Exception:
            return False
        return True

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
        for token in tokens:
            token.lemmatize(vocab)
        for i, token in enumerate(tokens):
            if token.pos != "ADJ" or token.lemma not in SENSORY:
                continue
            for j in range(i + 1, min(i + 4, len(tokens))):
                follower = tokens[j]
                if follower.pos == "NOUN":
                    kind = kind_of(follower.lemma)
                    if kind:
                        found.append(Candidate(token.start, follower.stop, kind, 0.6, self.name))
                    break
                if follower.pos not in ("ADJ", "CCONJ", "PUNCT", "ADV"):
                    break
        return found
