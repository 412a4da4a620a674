"""Books, their chapters, and the passages worth illustrating that the NLP ensemble finds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from domain.models.base import Base, JSONType, UTCDateTime, utcnow


class Book(Base):
    """An uploaded book: `uploaded` → `processing` → `processed` | `failed`."""

    __tablename__ = "books"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    author: Mapped[str] = mapped_column(String(500), default="")
    language: Mapped[str] = mapped_column(String(16), default="ru")
    file_path: Mapped[str] = mapped_column(String(1000))
    file_format: Mapped[str] = mapped_column(String(16))  # epub | txt
    status: Mapped[str] = mapped_column(String(16), default="uploaded")
    error: Mapped[str | None] = mapped_column(Text)
    chapter_count: Mapped[int] = mapped_column(Integer, default=0)
    chapters_done: Mapped[int] = mapped_column(Integer, default=0)
    book_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    processing_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Chapter(Base):
    """One chapter in reading order."""

    __tablename__ = "chapters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500), default="")
    spine_href: Mapped[str] = mapped_column(String(1000), default="")
    text: Mapped[str] = mapped_column(Text)
    char_count: Mapped[int] = mapped_column(Integer)
    is_processed: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_chapters_book_number", "book_id", "number", unique=True),)


class Description(Base):
    """A passage worth illustrating, with how sure the ensemble is of it."""

    __tablename__ = "descriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"))
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # location | character | atmosphere | object
    priority_score: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    consensus: Mapped[float] = mapped_column(Float)
    processors: Mapped[list[str]] = mapped_column(JSONType, default=list)
    start_offset: Mapped[int] = mapped_column(Integer)
    end_offset: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_descriptions_book_priority", "book_id", "priority_score"),
        Index("ix_descriptions_chapter", "chapter_id"),
    )
