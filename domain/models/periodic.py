"""Claimed periodic slots: the row that makes each slot run once, however many schedulers run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.models.base import Base, UTCDateTime


class PeriodicRun(Base):
    """One slot of one periodic actor, claimed by the scheduler that sent (or skipped) it."""

    __tablename__ = "bookjobs_periodic_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor_name: Mapped[str] = mapped_column(String(200))
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: claimed → sent, or skipped (with `note` saying why).
    status: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("actor_name", "slot_at", name="uq_bookjobs_periodic_runs_slot"),)
