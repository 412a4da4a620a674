"""The pipeline component the trained spaCy text classifier needs: pymorphy3 lemmas on every token.

spaCy's own Russian lemmatizer reads the part of speech a tagger would set, and bookjobs has no tagger;
this component gives each word pymorphy3's likeliest lemma instead, which the classifier's embedding
reads (`LEMMA` beside `NORM`, `PREFIX` and `SUFFIX`). `spacy train --code` imports this module, and so
does the processor before it loads the pipeline.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from domain.nlp.morphology import analyse

LEMMAS = "bookjobs_lemmas"


@Language.component(LEMMAS)
def lemmas(doc: Doc) -> Doc:
    for token in doc:
        token.lemma_ = analyse(token.lower_)[1] if token.is_alpha else token.lower_
    return doc
