"""bookjobs' own middleware, one class a module."""

from broker.middleware.cancellation import Cancellation
from broker.middleware.heartbeats import Heartbeats
from broker.middleware.ledger import Ledger
from broker.middleware.message_guard import MessageGuard
from broker.middleware.outbox_claim import OutboxClaim
from broker.middleware.periodic_option import PeriodicOption
from broker.middleware.queue_defaults import QueueDefaults
from broker.middleware.recycling import Recycling
from broker.middleware.retries import Retries
from broker.middleware.soft_time_limit import SoftTimeLimit
from broker.middleware.switch_interval import SwitchInterval
from broker.middleware.warmup import Warmup

__all__ = [
    "Cancellation",
    "Heartbeats",
    "Ledger",
    "MessageGuard",
    "OutboxClaim",
    "PeriodicOption",
    "QueueDefaults",
    "Recycling",
    "Retries",
    "SoftTimeLimit",
    "SwitchInterval",
    "Warmup",
]
