"""Configure this process once: settings, database and the global dramatiq broker."""

from __future__ import annotations

from collections.abc import Iterable

import dramatiq

from broker.factory import build_broker
from broker.settings import Settings
from domain import db

_settings: Settings | None = None


def configure(settings: Settings | None = None) -> dramatiq.Broker:
    """Build the broker for `settings` (default: from the environment) and make it dramatiq's global one."""
    global _settings
    _settings = settings or Settings.from_env()
    db.configure(_settings.database_url)
    broker = build_broker(_settings)
    dramatiq.set_broker(broker)
    return broker


def current_settings() -> Settings:
    """The settings this process was configured with (configuring it from the environment if needed)."""
    if _settings is None:
        configure()
    assert _settings is not None
    return _settings


def ensure_configured() -> dramatiq.Broker:
    """The configured broker, configuring it from the environment on first call."""
    if _settings is None:
        return configure()
    return dramatiq.get_broker()


def rebind_actors(target: dramatiq.Broker, actors: Iterable[dramatiq.Actor]) -> None:
    """Declare `actors` on `target` and make it the global broker (tests, a second embedded run)."""
    for actor in actors:
        actor.broker = target
        if actor.actor_name not in target.actors:
            target.declare_actor(actor)
    dramatiq.set_broker(target)
