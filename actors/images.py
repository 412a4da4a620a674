"""Image actors on the `images` queue, and the nightly image cleanup on `cleanup`."""

from __future__ import annotations

import dramatiq

from broker import jobs
from broker.runtime import current_settings
from domain import db
from domain.errors import InvalidArgument
from domain.images import service as image_service
from domain.images.providers import provider_for
from periodic import schedule


def _generate(description_ids: list[int], user_id: int) -> dict:
    settings = current_settings()

    def report(done: int, total: int) -> None:
        jobs.progress(done, total, "images")

    return image_service.generate_images(
        db.session_scope,
        description_ids=description_ids,
        user_id=user_id,
        provider=provider_for(settings.image_provider, settings.image_api_url),
        media_root=settings.media_root,
        media_url=settings.media_url,
        daily_limit=settings.image_daily_limit,
        on_progress=report,
    )


@dramatiq.actor(queue_name="images")
def generate_images(description_ids: list[int], user_id: int) -> dict:
    """One image per description; the others carry on when some fail; existing images are reused."""
    if not isinstance(description_ids, list) or not all(isinstance(i, int) for i in description_ids):
        raise InvalidArgument(f"description_ids must be a list of integers, not {description_ids!r}.")
    return _generate(description_ids, user_id)


@dramatiq.actor(queue_name="images")
def batch_generate_for_book(book_id: int, user_id: int, limit: int = 10) -> dict:
    """Images for the book's `limit` best descriptions that have none yet."""
    settings = current_settings()
    with db.session_scope() as session:
        selected = image_service.top_descriptions_without_image(
            session, book_id=book_id, provider=settings.image_provider, limit=limit
        )
    result = _generate(selected, user_id)
    return {
        "book_id": book_id,
        "user_id": user_id,
        "limit": limit,
        "selected_descriptions": len(selected),
        "generated_count": result["generated_count"],
        "processing_time_seconds": result["total_time_seconds"],
    }


@dramatiq.actor(queue_name="cleanup", **schedule.periodic_options("cleanup_old_images"))
def cleanup_old_images(days_old: int = 30) -> dict:
    """Delete images older than `days_old` and expired EPUB cache files, never outside MEDIA_ROOT."""
    return image_service.cleanup_old(
        db.session_scope, media_root=current_settings().media_root, days_old=days_old
    )
