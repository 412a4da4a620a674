"""Monitoring history: system snapshots every 30 minutes, one row of figures per day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Integer
from sqlalchemy.orm import Mapped, mapped_column

from domain.models.base import Base, JSONType, UTCDateTime


class SystemSnapshot(Base):
    __tablename__ = "system_stats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    stats: Mapped[dict[str, Any]] = mapped_column(JSONType)


class DailyStats(Base):
    __tablename__ = "daily_stats"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    stats: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
