"""Direct speech, blanked out so that only narration is read as description.

Russian prose marks speech in two ways, and both are handled here:

- a paragraph that opens with a dash is a line of dialogue. Its parts, split at " — ", alternate
  between speech and the author's words; a part that starts with a lower-case letter is the author's
  ("— Пойдём, — сказал он, — пора."), one that starts with a capital is the next speaker's turn
  ("— Едем? — Едем."), and the part after the author's words is speech again.
- a quotation in «», „“ or "" is speech when the author's words follow it after a dash
  («Завтра», — ответил он) or introduce it with a colon (Он сказал: «Завтра»). Other quotations are
  names («Волга», «Красная Москва») and stay.

What is said in speech is not what the scene looks like, so a sentence made only of speech is never
a passage, and "— Какой тёмный подъезд, — сказала она" is judged by "сказала она" alone.
"""

from __future__ import annotations

import re

DASHES = "—–"
#: A dash between two parts of a dialogue line (an ASCII hyphen counts only between spaces).
_SEPARATOR = re.compile(r"\s[—–-]\s|\s[—–-]$|^\s*[—–-]\s*")
_QUOTE = re.compile(r"«[^«»]*»|„[^„“]*“|\"[^\"]*\"")
_AUTHOR_AFTER = re.compile(r"^[\s,.!?…]*[—–-]\s*[a-zа-яё]")
_INTRODUCED = re.compile(r":\s*$")


def narration(text: str) -> str:
    """`text` with every character of direct speech replaced by a space (offsets are kept)."""
    chars = list(text)
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.lstrip()[:1] in DASHES or line.lstrip().startswith("- "):
            _blank_dialogue_line(chars, offset, line)
        offset += len(line)
    for quote in _QUOTE.finditer(text):
        after, before = text[quote.end() : quote.end() + 8], text[max(0, quote.start() - 4) : quote.start()]
        if _AUTHOR_AFTER.match(after) or _INTRODUCED.search(before):
            chars[quote.start() : quote.end()] = " " * (quote.end() - quote.start())
    return "".join(chars)


def is_speech_only(text: str) -> bool:
    """True when nothing but punctuation and spaces is left once speech is blanked."""
    return not any(ch.isalpha() for ch in narration(text))


def _blank_dialogue_line(chars: list[str], offset: int, line: str) -> None:
    cuts = [match.span() for match in _SEPARATOR.finditer(line)]
    authors = True  # the line opens with speech: the part "before" the first dash counts as the author's
    for number, (_, start) in enumerate(cuts):
        end = cuts[number + 1][0] if number + 1 < len(cuts) else len(line)
        # After speech, a lower-case part is the author's; after the author's words, speech resumes.
        authors = not authors and line[start:end].lstrip()[:1].islower()
        if not authors:
            chars[offset + start : offset + end] = [ch if ch == "\n" else " " for ch in line[start:end]]
