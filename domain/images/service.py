"""Generate illustrations for descriptions (partial success, daily limit, reuse) and delete old ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from domain.books import cache as book_cache
from domain.db import SessionScope
from domain.errors import JobError, TransientError
from domain.images import storage
from domain.images.providers import Provider
from domain.models.base import utcnow
from domain.models.books import Book, Description
from domain.models.images import GeneratedImage

STYLE = {
    "location": "atmospheric landscape illustration",
    "character": "character portrait illustration",
    "atmosphere": "moody atmospheric illustration",
    "object": "detailed still-life illustration",
}
MAX_PROMPT = 500


def build_prompt(description: Description, book: Book | None) -> str:
    """A prompt from the description's text and kind and the book's title and author."""
    source = f" from «{book.title}» by {book.author}" if book and book.title else ""
    return (
        f"{STYLE.get(description.kind, 'book illustration')}{source}: {' '.join(description.text.split())}"[
            :MAX_PROMPT
        ]
    )


def images_today(session, user_id: int, now: datetime) -> int:
    start = datetime(now.year, now.month, now.day, tzinfo=UTC)
    return session.scalar(
        select(func.count())
        .select_from(GeneratedImage)
        .where(
            GeneratedImage.user_id == user_id,
            GeneratedImage.created_at >= start,
            GeneratedImage.status == "completed",
        )
    )


def generate_images(
    scope: SessionScope,
    *,
    description_ids: list[int],
    user_id: int,
    provider: Provider,
    media_root: Path,
    media_url: str,
    daily_limit: int,
    on_progress: Callable[[int, int], object] | None = None,
) -> dict:
    """One image per description; failures are counted and the rest carry on.

    `on_progress(done, total)` is called after each description (the job's progress bar).

    A description that already has a completed image from this provider is reused. If every
    attempted image failed for a transient reason, TransientError makes the job retry later.
    """
    started = time.perf_counter()
    with scope() as session:
        remaining = daily_limit - images_today(session, user_id, utcnow())
    images, transient = [], 0
    if on_progress:
        on_progress(0, len(description_ids))
    for description_id in description_ids:
        entry = _one(scope, description_id, user_id, provider, media_root, media_url, allowed=remaining > 0)
        images.append({k: entry[k] for k in ("description_id", "image_url", "status")})
        remaining -= entry["status"] == "completed"
        transient += entry.get("transient", False)
        if on_progress:
            on_progress(len(images), len(description_ids))
    generated = sum(i["status"] == "completed" for i in images)
    failed = sum(i["status"] == "failed" for i in images)
    if transient and transient == failed and generated == 0:
        raise TransientError(f"All {transient} image(s) failed for a transient reason; retrying later.")
    result = {
        "user_id": user_id,
        "requested_count": len(description_ids),
        "generated_count": generated,
        "failed_count": failed,
        "total_time_seconds": round(time.perf_counter() - started, 3),
        "generated_images": images,
        "reused_count": sum(i["status"] == "reused" for i in images),
    }
    if any(i["status"] == "daily_limit_reached" for i in images):
        result["refused"] = f"Daily limit of {daily_limit} images reached for user {user_id}."
    return result


def _one(scope, description_id, user_id, provider, media_root, media_url, *, allowed: bool) -> dict:
    with scope() as session:
        description = session.get(Description, description_id)
        if description is None:
            return {"description_id": description_id, "image_url": None, "status": "failed"}
        existing = session.scalars(
            select(GeneratedImage).where(
                GeneratedImage.description_id == description_id,
                GeneratedImage.provider == provider.name,
                GeneratedImage.status == "completed",
            )
        ).first()
        if existing is not None:
            return {"description_id": description_id, "image_url": existing.public_url, "status": "reused"}
        if not allowed:
            return {"description_id": description_id, "image_url": None, "status": "daily_limit_reached"}
        prompt = build_prompt(description, session.get(Book, description.book_id))
        text, book_id = description.text, description.book_id
        row = GeneratedImage(
            description_id=description_id, user_id=user_id, provider=provider.name, prompt=prompt
        )
        session.add(row)
        session.flush()
        image_id = row.id
    started = time.perf_counter()
    try:
        picture = provider.generate(prompt, text=text, width=512, height=512, seed=description_id)
        relative = storage.store(media_root, book_id=book_id, description_id=description_id, png=picture.png)
    except JobError as error:
        with scope() as session:
            row = session.get(GeneratedImage, image_id)
            row.status, row.error = "failed", str(error)
        return {
            "description_id": description_id,
            "image_url": None,
            "status": "failed",
            "transient": isinstance(error, TransientError),
        }
    url = storage.public_url(media_url, relative)
    with scope() as session:
        row = session.get(GeneratedImage, image_id)
        row.status, row.file_path, row.public_url = "completed", relative.as_posix(), url
        row.width, row.height, row.size_bytes = picture.width, picture.height, len(picture.png)
        row.generation_ms = round((time.perf_counter() - started) * 1000, 2)
    return {"description_id": description_id, "image_url": url, "status": "completed"}


def top_descriptions_without_image(session, *, book_id: int, provider: str, limit: int) -> list[int]:
    """The `limit` best descriptions of a book that have no completed image from `provider`."""
    has_image = (
        select(GeneratedImage.id)
        .where(
            GeneratedImage.description_id == Description.id,
            GeneratedImage.provider == provider,
            GeneratedImage.status == "completed",
        )
        .exists()
    )
    statement = (
        select(Description.id)
        .where(Description.book_id == book_id, ~has_image)
        .order_by(Description.priority_score.desc(), Description.id)
        .limit(limit)
    )
    return list(session.scalars(statement))


def cleanup_old(
    scope: SessionScope, *, media_root: Path, days_old: int = 30, now: datetime | None = None
) -> dict:
    """Delete images (files and rows) older than `days_old`, and expired EPUB cache files.

    Row by row, each in its own transaction: a bad row never rolls back the good ones. Only a
    regular file under its own folder (MEDIA_ROOT/images, MEDIA_ROOT/cache/epub) is deleted; a
    path that resolves elsewhere (symlink, `..`) or is a directory is left alone and listed in
    `errors`, and its row still goes. A missing file is listed too, not fatal.
    """
    started = time.perf_counter()
    cutoff = (now or utcnow()) - timedelta(days=days_old)
    outcomes: list[int | str] = []
    with scope() as session:
        old_ids = session.scalars(select(GeneratedImage.id).where(GeneratedImage.created_at < cutoff)).all()
    for image_id in old_ids:
        with scope() as session:
            image = session.get(GeneratedImage, image_id)
            if image is None:
                continue  # another run took it
            if image.file_path:
                outcomes.append(_delete_file(media_root / "images", media_root / image.file_path))
            session.delete(image)
    cache_root = book_cache.cache_dir(media_root)
    outcomes += [_delete_file(cache_root, path) for path in book_cache.expired_files(media_root)]
    freed = sum(outcome for outcome in outcomes if isinstance(outcome, int))
    return {
        "deleted_files": sum(1 for outcome in outcomes if isinstance(outcome, int)),
        "freed_space_mb": round(freed / 1024 / 1024, 6),
        "deletion_time_seconds": round(time.perf_counter() - started, 3),
        "freed_bytes": freed,
        "errors": [outcome for outcome in outcomes if isinstance(outcome, str)],
    }


def _delete_file(root: Path, path: Path) -> int | str:
    """Bytes freed, or a sentence saying why nothing was deleted (nothing outside `root`, no folders)."""
    if not storage.inside(root, path):
        return f"Refused to delete {str(path)!r}: it resolves outside {str(root)!r}."
    if not path.exists() and not path.is_symlink():
        return f"{str(path)!r} was already missing."
    if not path.is_file():
        return f"Refused to delete {str(path)!r}: it is not a regular file."
    size = path.lstat().st_size  # removing a link frees the link, not its target
    try:
        path.unlink()
    except OSError as error:
        return f"Could not delete {str(path)!r}: {error.strerror or error}."
    return size
