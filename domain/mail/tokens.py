"""One-time tokens: the raw value goes into a mail, only its SHA-256 into the database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from domain.models.accounts import AuthToken, User
from domain.models.base import utcnow

VERIFICATION = "verification"
PASSWORD_RESET = "password_reset"
LIFETIMES = {VERIFICATION: timedelta(hours=24), PASSWORD_RESET: timedelta(hours=1)}
#: Used tokens are kept this long (for audit), then removed with the expired ones.
USED_RETENTION = timedelta(days=7)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(session: Session, *, user: User, kind: str) -> str:
    """A new raw token of `kind` for `user`; earlier unused ones of that kind stop working."""
    now = utcnow()
    session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.kind == kind, AuthToken.used_at.is_(None))
        .values(expires_at=now)
    )
    raw = secrets.token_urlsafe(32)
    session.add(
        AuthToken(user_id=user.id, kind=kind, token_hash=hash_token(raw), expires_at=now + LIFETIMES[kind])
    )
    session.flush()
    return raw


def redeem(session: Session, *, raw: str, kind: str) -> User | None:
    """The user whose unexpired, unused token of `kind` this is (marking it used), else None."""
    token = session.query(AuthToken).filter_by(token_hash=hash_token(raw), kind=kind).one_or_none()
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        return None
    token.used_at = utcnow()
    return session.get(User, token.user_id)


def cleanup_expired(session: Session) -> int:
    """Delete expired tokens and those used more than a week ago; returns how many."""
    now = utcnow()
    result = session.execute(
        delete(AuthToken).where(or_(AuthToken.expires_at <= now, AuthToken.used_at <= now - USED_RETENTION))
    )
    return result.rowcount
