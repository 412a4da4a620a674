"""Reading sessions of the e-book reader."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from domain.models.base import Base, UTCDateTime


class ReadingSession(Base):
    """A stretch of reading; closed by the reader, or by the cleanup when abandoned."""

    __tablename__ = "reading_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    book_id: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    start_position: Mapped[int] = mapped_column(Integer, default=0)
    end_position: Mapped[int | None] = mapped_column(Integer)
    pages_read: Mapped[int] = mapped_column(Integer, default=0)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        # Only active rows are indexed: the cleanup finds its rows among millions without a scan.
        Index(
            "ix_reading_sessions_active_started",
            "started_at",
            postgresql_where="is_active",
            sqlite_where="is_active",
        ),
        Index("ix_reading_sessions_ended", "ended_at"),
    )
