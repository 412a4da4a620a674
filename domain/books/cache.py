"""A gzip copy of each book file for serving: deterministic, written atomically, refreshed on change."""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from domain.errors import InvalidArgument

CACHE_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class CacheEntry:
    cache_key: str  # the original's key, `epub:<book id>`
    file_size_bytes: int
    compressed_size_bytes: int
    compression_ratio: float
    ttl_seconds: int
    status: str  # cached | fresh (already cached for this content)
    cache_file: str  # the gzip copy's name under MEDIA_ROOT/cache/epub/: book-<id>-<sha256 prefix>.epub.gz

    def as_dict(self) -> dict:
        return asdict(self)


def cache_dir(media_root: Path) -> Path:
    return media_root / "cache" / "epub"


#: Every EPUB is a ZIP archive whose first entry is the file `mimetype`.
EPUB_SIGNATURE = b"PK\x03\x04"


def cache_file(source: Path, *, book_id: int, media_root: Path) -> CacheEntry:
    """Gzip `source` (mtime=0, so equal input gives equal bytes) under MEDIA_ROOT/cache/epub/.

    Only a regular file that is a ZIP archive (as every EPUB is) is copied: a row pointing at
    `/etc/passwd` or a directory is refused with InvalidArgument, and nothing is written.
    """
    if not source.is_file():
        raise InvalidArgument(f"Book {book_id} file {str(source)!r} is not a regular file.")
    content = source.read_bytes()
    if not content.startswith(EPUB_SIGNATURE):
        raise InvalidArgument(f"Book {book_id} file {str(source)!r} is not an EPUB (no ZIP signature).")
    digest = hashlib.sha256(content).hexdigest()[:16]
    key = f"book-{book_id}-{digest}"
    directory = cache_dir(media_root)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{key}.epub.gz"
    status = "fresh" if target.exists() else "cached"
    if status == "cached":
        with (
            tempfile.NamedTemporaryFile(dir=directory, suffix=".tmp", delete=False) as handle,
            gzip.GzipFile(fileobj=handle, mode="wb", mtime=0, filename="") as compressed,
        ):
            compressed.write(content)
        os.replace(handle.name, target)
        for stale in directory.glob(f"book-{book_id}-*.epub.gz"):
            if stale != target:
                stale.unlink(missing_ok=True)
    else:
        os.utime(target)  # a refresh restarts the TTL
    size = target.stat().st_size
    return CacheEntry(
        f"epub:{book_id}",
        len(content),
        size,
        round(size / max(len(content), 1), 4),
        CACHE_TTL_SECONDS,
        status,
        target.name,
    )


def expired_files(media_root: Path, *, now: float | None = None) -> list[Path]:
    """Cache files not refreshed within the TTL (the image cleanup removes them)."""
    now = time.time() if now is None else now
    return [p for p in cache_dir(media_root).glob("*.epub.gz") if now - p.stat().st_mtime > CACHE_TTL_SECONDS]
