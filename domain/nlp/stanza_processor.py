"""Stanza, the original's third processor (weight 0.8), only where its Russian models are on disk.

Stanza has no offline Russian model: `stanza.download()` reaches a hub, which bookjobs never does. So
the processor is available only when `stanza` is installed and `STANZA_RESOURCES_DIR` (default
`~/stanza_resources`) already holds `resources.json` and a `ru/` folder; the pipeline is then built
with `download_method=None`. It only finds spans (people and places), so its vote on a sentence is
its best span's confidence.
"""

from __future__ import annotations

import os
from pathlib import Path

from domain.nlp.base import Candidate, can_load, load_once

NER_KINDS = {"LOC": ("location", 0.8), "PER": ("character", 0.7)}


def resources_dir() -> Path:
    return Path(os.environ.get("STANZA_RESOURCES_DIR", Path.home() / "stanza_resources"))


def models_present(directory: Path) -> bool:
    return (directory / "resources.json").is_file() and (directory / "ru").is_dir()


@load_once
def _pipeline():
    import stanza

    directory = resources_dir()
    if not models_present(directory):
        raise FileNotFoundError(f"No Stanza Russian models under {str(directory)!r}.")
    return stanza.Pipeline(
        lang="ru", processors="tokenize,ner", dir=str(directory), download_method=None, use_gpu=False
    )


class StanzaProcessor:
    name = "stanza"
    weight = 0.8
    cost = 50.0  # a neural tagger on the CPU: the slowest, so lazy voting asks it last

    def available(self) -> bool:
        return models_present(resources_dir()) and can_load(_pipeline)

    def find(self, text: str) -> list[Candidate]:
        return [
            Candidate(entity.start_char, entity.end_char, *NER_KINDS[entity.type], self.name)
            for entity in _pipeline()(text).ents
            if entity.type in NER_KINDS
        ]
