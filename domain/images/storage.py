"""Image files under MEDIA_ROOT: written atomically, and never touched outside it."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def store(media_root: Path, *, book_id: int, description_id: int, png: bytes) -> Path:
    """Write `png` to MEDIA_ROOT/images/<book>/<description>-<hash>.png; returns it relative to the root."""
    relative = Path("images") / str(book_id) / f"{description_id}-{hashlib.sha256(png).hexdigest()[:12]}.png"
    target = media_root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".tmp", delete=False) as handle:
        handle.write(png)
    os.replace(handle.name, target)
    return relative


def public_url(media_url: str, relative: Path) -> str:
    return f"{media_url.rstrip('/')}/{relative.as_posix()}"


def inside(media_root: Path, path: Path) -> bool:
    """True when `path`, with every symlink and `..` resolved, lies under MEDIA_ROOT."""
    root = media_root.resolve()
    return path.resolve().is_relative_to(root)
