"""One broker from one URL, with the project's middleware in one visible list."""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    ShutdownNotifications,
    TimeLimit,
)
from dramatiq.results import Results

from broker.ledger import LedgerWriter
from broker.middleware import (
    Cancellation,
    Heartbeats,
    Ledger,
    MessageGuard,
    OutboxClaim,
    PeriodicOption,
    QueueDefaults,
    Recycling,
    Retries,
    SoftTimeLimit,
    SwitchInterval,
    Warmup,
)
from broker.middleware.ledger import AckMode
from broker.redelivery import DuplicateCheck
from broker.results import LedgerResultBackend
from broker.settings import Settings
from domain import db

#: RabbitMQ priorities 0..10; fixed for good, since x-max-priority cannot change on an existing queue.
MAX_PRIORITY = 10
#: AMQP heartbeat in seconds, so a dead peer is noticed within a minute.
AMQP_HEARTBEAT = 30


def build_middleware(settings: Settings) -> list[dramatiq.Middleware]:
    """Every middleware, in the order dramatiq runs their `before_*` hooks.

    dramatiq runs `after_*` hooks in reverse order, so the ledger and the heartbeats stand first:
    they see a message before anything can skip it, and its outcome after Retries has decided it.
    """
    observers: list[dramatiq.Middleware] = []
    if settings.ledger_enabled:
        writer = LedgerWriter(db.get_engine, linger=settings.ledger_flush_interval)
        duplicates = DuplicateCheck(writer=writer, heartbeat_interval=settings.heartbeat_interval)
        observers.append(Ledger(writer=writer, ack_mode=ack_mode(settings), duplicates=duplicates))
    observers.append(Heartbeats(engine_factory=db.get_engine, interval=settings.heartbeat_interval))
    # After the observers, as every other middleware: the ledger sees a job before anything skips it.
    cancellation = [Cancellation()] if settings.ledger_enabled else []
    return [
        QueueDefaults(),
        *observers,
        *cancellation,
        MessageGuard(max_bytes=settings.max_message_bytes),
        OutboxClaim(),
        AgeLimit(),
        SoftTimeLimit(),
        TimeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(),
        CurrentMessage(),
        Results(backend=LedgerResultBackend(engine_factory=db.get_engine), store_results=True),
        PeriodicOption(),
        Warmup(queue_name="books", warm=_warm_nlp),
        SwitchInterval(seconds=settings.gil_switch_interval),
        *_recycling(settings),
    ]


def _recycling(settings: Settings) -> list[dramatiq.Middleware]:
    """Recycling only when a limit is set: a middleware that never acts still costs a call per hook."""
    if not (settings.max_jobs_per_child or settings.max_memory_per_child_mb):
        return []
    return [Recycling(max_jobs=settings.max_jobs_per_child, max_memory_mb=settings.max_memory_per_child_mb)]


def _warm_nlp() -> None:
    from domain.nlp.ensemble import warm_up

    warm_up()


def ack_mode(settings: Settings) -> AckMode:
    """RabbitMQ consumers defer acks to the ledger's flusher; other brokers block until the commit."""
    if not settings.ledger_durable_ack:
        return AckMode.OFF
    return AckMode.DEFER if settings.broker_url.startswith("amqp") else AckMode.WAIT


def build_broker(settings: Settings) -> dramatiq.Broker:
    """A broker for `settings.broker_url`: amqp:// → RabbitMQ, redis:// → Redis, memory:// → in-process."""
    url = settings.broker_url
    middleware = build_middleware(settings)
    scheme = urlsplit(url).scheme
    if scheme in ("amqp", "amqps"):
        from broker.rabbitmq import LedgerRabbitmqBroker

        quorum = settings.broker_queue_type == "quorum"
        return LedgerRabbitmqBroker(
            url=cluster_urls(url, rotate=os.getpid()),
            confirm_delivery=True,
            max_priority=None if quorum else MAX_PRIORITY,  # quorum queues take no x-max-priority
            middleware=middleware,
            max_message_bytes=settings.max_message_bytes,
            queue_type=settings.broker_queue_type,
            delivery_limit=settings.broker_delivery_limit,
        )
    if scheme in ("redis", "rediss"):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, middleware=middleware)
    return StubBroker(middleware=middleware)


def cluster_urls(url: str, *, rotate: int = 0) -> list[str]:
    """The node URLs of BROKER_URL (one, or a cluster's separated by `;` as dramatiq reads them),
    each with bookjobs' defaults, starting at node `rotate` modulo their number: processes given
    their pid spread over the nodes, and each tries the others in turn when its node is lost."""
    nodes = [with_amqp_defaults(part.strip()) for part in url.split(";") if part.strip()]
    start = rotate % len(nodes)
    return nodes[start:] + nodes[:start]


def with_amqp_defaults(url: str) -> str:
    """`url` with a heartbeat and connection retries unless it sets them itself."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("heartbeat", str(AMQP_HEARTBEAT))
    query.setdefault("connection_attempts", "3")
    query.setdefault("retry_delay", "1")
    query.setdefault("blocked_connection_timeout", "60")
    return urlunsplit(parts._replace(query=urlencode(query)))
