"""`/metrics` for Prometheus: queue depths, oldest waiting job, jobs by actor and status, job durations."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from dashboard import queries
from dashboard.app import Dashboard, dashboard_of
from dashboard.queues import queue_counts, queue_names
from domain import db, queue_samples
from domain import ledger as ledger_service
from domain.models.base import utcnow

#: Duration buckets in seconds, from a health check to a book chapter.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)
#: The histogram covers jobs finished in this window (the ledger is pruned; a counter would reset anyway).
DURATION_WINDOW = timedelta(hours=1)

router = APIRouter()


class LedgerCollector:
    """Reads the broker and the ledger once per scrape."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard

    def collect(self):
        depth = GaugeMetricFamily(
            "bookjobs_queue_messages", "Messages in a queue by kind.", labels=["queue", "kind"]
        )
        consumers = GaugeMetricFamily("bookjobs_queue_consumers", "Consumers of a queue.", labels=["queue"])
        for q in queue_counts(self.dashboard.broker, self.dashboard.settings.broker_url):
            for kind in ("ready", "delayed", "dead"):
                if getattr(q, kind) is not None:
                    depth.add_metric([q.name, kind], getattr(q, kind))
            if q.consumers is not None:
                consumers.add_metric([q.name], q.consumers)
        yield depth
        yield consumers
        now = utcnow()
        with db.session_scope() as session:
            oldest = GaugeMetricFamily(
                "bookjobs_oldest_ready_age_seconds",
                "Age of the oldest job enqueued and not yet started, per queue (from the ledger).",
                labels=["queue"],
            )
            queues = queue_names(self.dashboard.broker)
            for queue, enqueued_at in queue_samples.oldest_waiting(session, queues).items():
                oldest.add_metric([queue], (now - enqueued_at).total_seconds())
            yield oldest
            jobs = GaugeMetricFamily(
                "bookjobs_jobs", "Jobs in the ledger by actor and status.", labels=["actor", "status"]
            )
            for actor, status, count in queries.jobs_by_actor_and_status(session):
                jobs.add_metric([actor, status], count)
            yield jobs
            suppressed = GaugeMetricFamily(
                "bookjobs_duplicates_suppressed",
                "Redelivered or resent copies acked without running because their job had finished.",
                labels=["actor"],
            )
            for actor, count in ledger_service.suppressed_duplicates(session).items():
                suppressed.add_metric([actor], count)
            yield suppressed
            yield _histogram(queries.durations(session, since=now - DURATION_WINDOW))


def _histogram(durations: list[tuple[str, float]]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(
        "bookjobs_job_duration_seconds", "Run time of jobs finished in the last hour.", labels=["actor"]
    )
    by_actor: dict[str, list[float]] = {}
    for actor, seconds in durations:
        by_actor.setdefault(actor, []).append(seconds)
    for actor, values in sorted(by_actor.items()):
        buckets = [(str(bound), sum(1 for v in values if v <= bound)) for bound in BUCKETS]
        buckets.append(("+Inf", len(values)))
        family.add_metric([actor], buckets, sum(values))
    return family


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    dashboard = dashboard_of(request)
    dashboard.guard.require_api(request)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(dashboard))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
