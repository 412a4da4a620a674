"""Every bookjobs actor. Importing this package configures the broker, so `dramatiq actors` works."""

from __future__ import annotations

import dramatiq

from broker import runtime

runtime.ensure_configured()

from actors import books, email, exams, images, monitoring, reading  # noqa: E402

MODULES = (books, email, exams, images, monitoring, reading)


def all_actors() -> list[dramatiq.Actor]:
    """Every actor this package declares."""
    return [
        value for module in MODULES for value in vars(module).values() if isinstance(value, dramatiq.Actor)
    ]
