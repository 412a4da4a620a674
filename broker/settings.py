"""One settings object, read from the environment once and validated."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from broker.errors import ConfigError

BROKER_SCHEMES = ("amqp", "amqps", "redis", "rediss", "memory")
DATABASE_SCHEMES = ("postgresql", "postgresql+psycopg2", "sqlite")
QUEUE_TYPES = ("classic", "quorum")


@dataclass(frozen=True)
class Settings:
    """Everything a bookjobs process needs to know about its surroundings."""

    broker_url: str = "memory://"
    #: RabbitMQ queue type of the work, delay and dead-letter queues: "classic" or "quorum".
    broker_queue_type: str = "classic"
    #: Quorum queues: a message delivered more often than this is dead-lettered by RabbitMQ itself.
    broker_delivery_limit: int = 20
    database_url: str = "sqlite:///bookjobs.db"
    smtp_url: str | None = None
    mail_outbox_dir: Path = Path("outbox")
    mail_from: str = "BookReader <noreply@bookreader.local>"
    app_base_url: str = "http://localhost:3000"
    media_root: Path = Path("media")
    media_url: str = "/media/"
    #: Where book files live; when set, a book whose file resolves elsewhere is refused.
    books_root: Path | None = None
    image_provider: str = "local"
    image_api_url: str | None = None
    image_daily_limit: int = 50
    dashboard_token: str | None = None
    #: Host names the dashboard answers to besides loopback ones (DNS-rebinding guard).
    dashboard_hosts: tuple[str, ...] = ()
    ledger_enabled: bool = True
    ledger_flush_interval: float = 0.05
    ledger_durable_ack: bool = True
    heartbeat_interval: float = 5.0
    gil_switch_interval: float = 0.01
    max_message_bytes: int = 1_048_576
    #: A worker process finishing this many jobs is replaced by a fresh one (0: never).
    max_jobs_per_child: int = 0
    #: A worker process whose resident memory passes this many MB is replaced (0: never).
    max_memory_per_child_mb: int = 0
    abandoned_session_hours: float = 2.0
    dead_job_retention_days: int = 90
    #: Where live exam sessions are kept: a `redis://` URL, or None for the database.
    exam_session_url: str | None = None
    #: Minutes before an exam's end at which `send_exam_reminder` mails the student.
    exam_reminder_minutes: tuple[int, ...] = (10, 2)

    @property
    def is_embedded(self) -> bool:
        """True when the broker lives in this process (no RabbitMQ, no Redis)."""
        return self.broker_url.startswith("memory://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `env` (default: os.environ); a bad value raises ConfigError."""
        env = os.environ if env is None else env
        defaults = cls()
        settings = cls(
            broker_url=_url(env, "BROKER_URL", defaults.broker_url, BROKER_SCHEMES),
            broker_queue_type=_choice(env, "BROKER_QUEUE_TYPE", defaults.broker_queue_type, QUEUE_TYPES),
            broker_delivery_limit=int(
                _positive(env, "BROKER_DELIVERY_LIMIT", defaults.broker_delivery_limit)
            ),
            database_url=_url(env, "DATABASE_URL", defaults.database_url, DATABASE_SCHEMES),
            smtp_url=_optional_url(env, "SMTP_URL", ("smtp", "smtps")),
            mail_outbox_dir=Path(env.get("MAIL_OUTBOX_DIR", str(defaults.mail_outbox_dir))),
            mail_from=env.get("MAIL_FROM") or defaults.mail_from,
            app_base_url=_url(env, "APP_BASE_URL", defaults.app_base_url, ("http", "https")).rstrip("/"),
            media_root=Path(env.get("MEDIA_ROOT", str(defaults.media_root))),
            media_url=env.get("MEDIA_URL", defaults.media_url),
            books_root=Path(env["BOOKS_ROOT"]) if env.get("BOOKS_ROOT") else None,
            image_provider=_choice(env, "IMAGE_PROVIDER", defaults.image_provider, ("local", "http")),
            image_api_url=_optional_url(env, "IMAGE_API_URL", ("http", "https")),
            image_daily_limit=int(_positive(env, "IMAGE_DAILY_LIMIT", defaults.image_daily_limit)),
            dashboard_token=env.get("DASHBOARD_TOKEN") or None,
            dashboard_hosts=tuple(
                host.strip().lower() for host in env.get("DASHBOARD_HOSTS", "").split(",") if host.strip()
            ),
            ledger_enabled=_flag(env, "BOOKJOBS_LEDGER", defaults.ledger_enabled),
            ledger_flush_interval=_positive(
                env, "BOOKJOBS_LEDGER_FLUSH_SECONDS", defaults.ledger_flush_interval
            ),
            ledger_durable_ack=_flag(env, "BOOKJOBS_LEDGER_DURABLE_ACK", defaults.ledger_durable_ack),
            heartbeat_interval=_positive(env, "BOOKJOBS_HEARTBEAT_SECONDS", defaults.heartbeat_interval),
            gil_switch_interval=_positive(env, "BOOKJOBS_GIL_SWITCH_MS", defaults.gil_switch_interval * 1000)
            / 1000,
            max_message_bytes=int(_positive(env, "MAX_MESSAGE_BYTES", defaults.max_message_bytes)),
            max_jobs_per_child=_whole(env, "BOOKJOBS_MAX_JOBS_PER_CHILD", defaults.max_jobs_per_child),
            max_memory_per_child_mb=_whole(
                env, "BOOKJOBS_MAX_MEMORY_PER_CHILD_MB", defaults.max_memory_per_child_mb
            ),
            abandoned_session_hours=_positive(
                env, "ABANDONED_SESSION_HOURS", defaults.abandoned_session_hours
            ),
            dead_job_retention_days=int(
                _positive(env, "DEAD_JOB_RETENTION_DAYS", defaults.dead_job_retention_days)
            ),
            exam_session_url=_optional_url(env, "EXAM_SESSION_URL", ("redis", "rediss")),
            exam_reminder_minutes=_minutes(env, "EXAM_REMINDER_MINUTES", defaults.exam_reminder_minutes),
        )
        if settings.image_provider == "http" and not settings.image_api_url:
            raise ConfigError("IMAGE_PROVIDER='http' needs IMAGE_API_URL to be set.")
        return settings


def _minutes(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """A comma-separated list of whole minutes ("10,2"); empty means none."""
    if name not in env:
        return default
    parts = [part.strip() for part in env[name].split(",") if part.strip()]
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        raise ConfigError(f"{name}={env[name]!r} must be whole minutes above 0, separated by commas.")
    return tuple(sorted({int(part) for part in parts}, reverse=True))


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = env.get(name) or default
    scheme = urlsplit(value).scheme
    if scheme not in schemes:
        raise ConfigError(
            f"{name}={value!r} is not a valid URL: the scheme must be one of {', '.join(schemes)}."
        )
    return value


def _optional_url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    if not env.get(name):
        return None
    return _url(env, name, "", schemes)


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name) or default
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}.")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise ConfigError(f"{name}={value!r} is not a whole number (0 turns it off).")
    return int(value)


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number.") from None
    if number <= 0:
        raise ConfigError(f"{name}={value!r} must be greater than zero.")
    return number
