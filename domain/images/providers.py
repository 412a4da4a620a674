"""Image providers: `local` draws an illustration card offline, `http` asks a pollinations-style API."""

from __future__ import annotations

import io
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from domain.errors import PermanentError, TransientError

#: Palettes picked by the colour and light words of a description (first match wins).
PALETTES = (
    (("закат", "золот", "заря", "солн", "ярк"), ((92, 40, 20), (232, 160, 60))),
    (("туман", "сер", "сумр", "мгл", "дым"), ((60, 64, 72), (170, 176, 186))),
    (
        ("ноч", "тёмн", "темн", "луна", "лунн", "звёзд", "звезд", "чёрн", "черн"),
        ((10, 14, 40), (70, 80, 140)),
    ),
    (("лес", "зелён", "зелен", "луг", "сад", "трав"), ((20, 60, 30), (120, 170, 90))),
    (("мор", "рек", "озер", "син", "голуб", "вод"), ((15, 50, 90), (90, 160, 210))),
    (("снег", "бел", "мороз", "лёд", "лед"), ((150, 170, 190), (240, 245, 250))),
    (("крас", "алый", "багр", "огон", "огн"), ((90, 10, 10), (220, 70, 50))),
)
DEFAULT_PALETTE = ((50, 40, 60), (190, 170, 150))
MAX_IMAGE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Picture:
    png: bytes
    width: int
    height: int


class Provider(Protocol):
    name: str

    def generate(self, prompt: str, *, text: str, width: int, height: int, seed: int) -> Picture: ...


def palette_for(text: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    lowered = text.lower()
    for stems, palette in PALETTES:
        if any(stem in lowered for stem in stems):
            return palette
    return DEFAULT_PALETTE


@cache
def _font(size: int):
    import font_roboto
    from PIL import ImageFont

    # Pillow's built-in font has no Cyrillic; Roboto (from the font-roboto package) has.
    return ImageFont.truetype(font_roboto.Roboto, size)


class LocalProvider:
    """A 512×512 card: a vertical gradient in the description's palette with its text on it."""

    name = "local"

    def generate(
        self, prompt: str, *, text: str, width: int = 512, height: int = 512, seed: int = 0
    ) -> Picture:
        from PIL import Image, ImageDraw

        top, bottom = palette_for(text)
        gradient = Image.linear_gradient("L").resize((width, height))
        image = Image.composite(
            Image.new("RGB", (width, height), bottom), Image.new("RGB", (width, height), top), gradient
        )
        draw = ImageDraw.Draw(image)
        font = _font(max(14, width // 24))
        lines = textwrap.wrap(text, width=max(10, width // (font.size // 2 + 1)))[:12]
        y = height // 8
        for line in lines:
            draw.text((width // 16 + 1, y + 1), line, font=font, fill=(0, 0, 0))
            draw.text((width // 16, y), line, font=font, fill=(250, 248, 240))
            y += int(font.size * 1.3)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=False, compress_level=1)
        return Picture(buffer.getvalue(), width, height)


@dataclass(frozen=True)
class HttpProvider:
    """GET {api}/prompt/{prompt}?width=&height=&seed=&nologo=true → image bytes, checked and decoded."""

    api_url: str
    timeout: float = 30.0
    attempts: int = 3
    max_retry_after: float = 60.0
    name: str = "http"

    def generate(
        self, prompt: str, *, text: str, width: int = 512, height: int = 512, seed: int = 0
    ) -> Picture:
        query = urllib.parse.urlencode({"width": width, "height": height, "seed": seed, "nologo": "true"})
        url = f"{self.api_url.rstrip('/')}/prompt/{urllib.parse.quote(prompt, safe='')}?{query}"
        for attempt in range(1, self.attempts + 1):
            try:
                return self._fetch(url)
            except TransientError as error:
                if attempt == self.attempts:
                    raise
                time.sleep(min(error.retry_after or 0.5 * 2**attempt, self.max_retry_after))
        raise AssertionError("unreachable")

    def _fetch(self, url: str) -> Picture:
        request = urllib.request.Request(url, headers={"Accept": "image/*"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                content_type = response.headers.get("Content-Type", "")
                body = response.read(MAX_IMAGE_BYTES + 1)
        except urllib.error.HTTPError as error:
            if error.code == 429:
                raise TransientError(
                    "Image API answered 429 Too Many Requests.",
                    retry_after=_seconds(error.headers.get("Retry-After")),
                ) from None
            if error.code >= 500:
                raise TransientError(f"Image API answered {error.code}.") from None
            raise PermanentError(f"Image API answered {error.code} {error.reason}.") from None
        except (TimeoutError, urllib.error.URLError, OSError) as error:
            raise TransientError(f"Image API unreachable or too slow: {error}.") from None
        if len(body) > MAX_IMAGE_BYTES:
            raise PermanentError(f"Image API sent more than {MAX_IMAGE_BYTES} bytes.")
        if not content_type.startswith("image/"):
            raise PermanentError(f"Image API sent {content_type or 'no content type'!s}, not an image.")
        return _decoded(body)


def _decoded(body: bytes) -> Picture:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(body)) as image:
            image.load()
            width, height = image.size
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="PNG")
    except (UnidentifiedImageError, OSError) as error:
        raise PermanentError(f"Image API sent bytes that are not a decodable image: {error}.") from None
    return Picture(buffer.getvalue(), width, height)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def provider_for(name: str, api_url: str | None) -> Provider:
    if name == "http":
        if not api_url:
            raise PermanentError("IMAGE_PROVIDER='http' needs IMAGE_API_URL.")
        return HttpProvider(api_url)
    return LocalProvider()
