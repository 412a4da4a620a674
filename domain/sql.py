"""Date arithmetic that PostgreSQL and SQLite spell differently."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, func, literal
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


def minutes_between(session: Session, start: ColumnElement, end: datetime) -> ColumnElement:
    """Minutes (to the nearest one) from the column `start` to the instant `end`, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", literal(end) - start)
    else:
        seconds = (
            func.julianday(literal(end.strftime("%Y-%m-%d %H:%M:%S.%f"))) - func.julianday(start)
        ) * 86400
    # round, not floor: julianday() arithmetic leaves 190 minutes as 189.99999…
    return func.round(seconds.cast(Float) / 60)


def plus_minutes(session: Session, start: ColumnElement, minutes: ColumnElement) -> ColumnElement:
    """The column `start` plus a number of minutes taken from another column or expression."""
    if session.get_bind().dialect.name == "postgresql":
        return start + func.make_interval(0, 0, 0, 0, 0, minutes)
    return func.datetime(start, func.printf("+%d minutes", minutes))
