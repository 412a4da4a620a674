"""Per-queue retry and time-limit defaults (DESIGN.md), and the retry rule built from them."""

from __future__ import annotations

from dataclasses import dataclass

from broker.errors import is_transient

SECOND = 1000
MINUTE = 60 * SECOND

#: Since dramatiq 2.0 the n-th backoff is drawn from [min, 2 × min] × 2ⁿ, so its mean is 1.5 × min × 2ⁿ.
#: Dividing the wanted mean by 1.5 makes the seeds' schedules (e.g. 5 → 10 → 20 min) hold on average.
JITTER_MEAN = 1.5


@dataclass(frozen=True)
class QueuePolicy:
    """How the jobs of one queue retry and how long they may run."""

    max_retries: int
    backoff_ms: int
    time_limit_ms: int
    #: Messages a worker process holds per worker thread. A queue of short jobs wants a deep window:
    #: acks wait for the ledger's commit, and bigger socket reads cost less per message. A queue of
    #: long jobs keeps dramatiq's 2, so waiting jobs stay free for other workers to take.
    prefetch_per_thread: int = 2
    #: The RabbitMQ priority (0–10, higher first) of a message sent without one, and the order in which
    #: a worker runs the jobs it holds from several queues (higher first). An explicit one wins.
    priority: int = 0
    #: Milliseconds after which `SoftTimeLimitExceeded` is raised inside the job (None: no soft limit).
    soft_time_limit_ms: int | None = None

    @property
    def min_backoff_ms(self) -> int:
        """The `min_backoff` that gives `backoff_ms × 2ⁿ` on average under dramatiq's jitter."""
        return round(self.backoff_ms / JITTER_MEAN)


#: `prefetch_per_thread` of queues whose jobs take milliseconds (measured: benchmarks/compare.py).
SHORT_JOBS = 25

#: Priorities as the seeds' queues had them (`003_…`: ai_processing 10, default 5, monitoring 3): a
#: person waiting on a mail or an exam first, then the reader's books and illustrations, then the
#: platform's own work, cleanup last.
QUEUE_POLICIES: dict[str, QueuePolicy] = {
    "email": QueuePolicy(
        max_retries=3,
        backoff_ms=60 * SECOND,
        time_limit_ms=60 * SECOND,
        prefetch_per_thread=SHORT_JOBS,
        priority=8,
    ),
    # The seeds' 25 minutes soft and 30 hard (003_…).
    "books": QueuePolicy(
        max_retries=3,
        backoff_ms=30 * SECOND,
        time_limit_ms=30 * MINUTE,
        soft_time_limit_ms=25 * MINUTE,
        priority=6,
    ),
    "images": QueuePolicy(max_retries=2, backoff_ms=60 * SECOND, time_limit_ms=10 * MINUTE, priority=6),
    "cleanup": QueuePolicy(max_retries=3, backoff_ms=300 * SECOND, time_limit_ms=5 * MINUTE, priority=2),
    "exams": QueuePolicy(
        max_retries=3,
        backoff_ms=30 * SECOND,
        time_limit_ms=5 * MINUTE,
        prefetch_per_thread=SHORT_JOBS,
        priority=8,
    ),
    "default": QueuePolicy(
        max_retries=3,
        backoff_ms=30 * SECOND,
        time_limit_ms=5 * MINUTE,
        prefetch_per_thread=SHORT_JOBS,
        priority=5,
    ),
}

#: Queues without a row of their own (tests, apps' ad-hoc queues) get the default queue's policy.
FALLBACK_POLICY = QUEUE_POLICIES["default"]


def policy_for(queue_name: str) -> QueuePolicy:
    """The policy of `queue_name`, or the default queue's one."""
    return QUEUE_POLICIES.get(queue_name, FALLBACK_POLICY)


@dataclass(frozen=True)
class RetryWhen:
    """dramatiq's `retry_when`: retry transient failures until `max_retries` retries have run."""

    max_retries: int

    def __call__(self, retries: int, exception: BaseException) -> bool:
        return retries < self.max_retries and is_transient(exception)
