"""`bookjobs status` and `bookjobs purge`: the counterparts of `celery inspect` and `celery purge`."""

from __future__ import annotations

import json

import click
from dramatiq.common import dq_name, xq_name

from broker.commands.common import clear_errors, load_actors, load_settings, require_database
from broker.errors import ConfigError
from broker.inspect import BrokerInspector, QueueCounts
from broker.settings import Settings
from domain import cancels, db, inspection, ledger


def _require_amqp(settings: Settings, what: str) -> None:
    if not settings.broker_url.startswith("amqp"):
        raise ConfigError(
            f"{what} needs RabbitMQ: BROKER_URL={settings.broker_url!r}. "
            "The embedded broker lives inside `bookjobs up`, where its jobs show in the dashboard."
        )


def _queue_names(settings: Settings, modules: tuple[str, ...] = ()) -> list[str]:
    broker = load_actors(settings, modules)
    return sorted({actor.queue_name for actor in broker.actors.values()})


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables.")
@click.option(
    "--module",
    "-m",
    "modules",
    multiple=True,
    help="Also show the queues of this module's actors; repeatable.",
)
@clear_errors
def status(as_json: bool, modules: tuple[str, ...]) -> None:
    """Queues with ready/delayed/dead counts, live workers, and the last failures.

    The queues shown are bookjobs' own, those of `--module`, and every queue a live worker serves.
    """
    settings = load_settings()
    require_database(settings)
    names = _queue_names(settings, modules)
    db.configure(settings.database_url)
    with db.session_scope() as session:
        served = {queue for w in ledger.workers(session) for queue in w.queues}
    queues: list[QueueCounts] = []
    if settings.broker_url.startswith("amqp"):
        with BrokerInspector(settings.broker_url) as inspector:
            queues = [inspector.queue_counts(name) for name in sorted({*names, *served})]
    with db.session_scope() as session:
        workers = [
            {
                "worker_id": w.worker_id,
                "queues": w.queues,
                "last_seen": w.last_seen.isoformat(),
                "stale": ledger.is_stale(w, interval_seconds=settings.heartbeat_interval),
                "in_flight": w.in_flight,
                "processed": w.processed,
            }
            for w in ledger.workers(session)
        ]
        failures = [
            {
                "message_id": j.message_id,
                "actor": j.actor_name,
                "queue": j.queue_name,
                "error": j.error_message,
            }
            for j in ledger.recent_failures(session, limit=5)
        ]
    if as_json:
        document = {
            "queue_type": settings.broker_queue_type,
            "priorities": PRIORITY_MEANING[settings.broker_queue_type],
            "queues": [q.as_dict() for q in queues],
            "workers": workers,
            "failures": failures,
        }
        click.echo(json.dumps(document, indent=2))
        return
    _print_status(queues, workers, failures, settings)


#: What a message's priority does on each queue type (RabbitMQ 3.x; 4.x quorum queues have two levels).
PRIORITY_MEANING = {
    "classic": "priorities 0-10 reorder waiting messages (x-max-priority 10)",
    "quorum": "no priorities on RabbitMQ 3.x quorum queues: messages run in order; RabbitMQ 4 treats "
    "priority > 4 as high, the rest as normal; delivery limit dead-letters poison messages",
}


def _print_status(
    queues: list[QueueCounts], workers: list[dict], failures: list[dict], settings: Settings
) -> None:
    def shown(value: int | None) -> str:
        return "-" if value is None else str(value)

    if settings.broker_url.startswith("amqp"):
        kind = settings.broker_queue_type
        click.echo(f"queue type: {kind} ({PRIORITY_MEANING[kind]})\n")
    if queues:
        click.echo(f"{'queue':<20}{'ready':>8}{'delayed':>9}{'dead':>7}{'consumers':>11}")
        for q in queues:
            counts = f"{shown(q.ready):>8}{shown(q.delayed):>9}{shown(q.dead):>7}{shown(q.consumers):>11}"
            click.echo(f"{q.name:<20}{counts}")
    else:
        click.echo(f"Queue counts need RabbitMQ (BROKER_URL={settings.broker_url!r}).")
    click.echo(f"\nworkers: {len(workers)}")
    for w in workers:
        flag = " (stale)" if w["stale"] else ""
        click.echo(
            f"  {w['worker_id']}{flag}  queues={','.join(w['queues'])}  in_flight={w['in_flight']}"
            f"  processed={w['processed']}  last_seen={w['last_seen']}"
        )
    click.echo(f"\nlast failures: {len(failures)}")
    for f in failures:
        click.echo(f"  {f['message_id']}  {f['queue']}/{f['actor']}: {f['error']}")


@click.command()
@click.argument("queue")
@click.option("--delayed", is_flag=True, help="Also empty the queue's delay queue.")
@click.option("--dead", is_flag=True, help="Also empty the queue's dead-letter queue.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@clear_errors
def purge(queue: str, delayed: bool, dead: bool, yes: bool) -> None:
    """Remove every ready message of QUEUE (and with flags its delayed and dead ones)."""
    settings = load_settings()
    _require_amqp(settings, "purge")
    known = _queue_names(settings)
    if queue not in known:
        raise ConfigError(f"Unknown queue {queue!r}; known queues: {', '.join(known)}.")
    targets = [queue] + ([dq_name(queue)] if delayed else []) + ([xq_name(queue)] if dead else [])
    if not yes:
        click.confirm(f"Purge {', '.join(targets)}?", abort=True)
    with BrokerInspector(settings.broker_url) as inspector:
        for name in targets:
            click.echo(f"{name}: {inspector.purge(name)} messages removed")


@click.command()
@click.argument("message_ids", nargs=-1)
@click.option("--actor", help="Cancel every job of this actor (with --queue, only on that queue).")
@click.option("--queue", help="With --actor: only the jobs on this queue.")
@click.option(
    "--status",
    "statuses",
    default="enqueued,delayed,retrying,running",
    show_default=True,
    help="With --actor: which jobs, comma-separated.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcomes as JSON.")
@clear_errors
def cancel(
    message_ids: tuple[str, ...], actor: str | None, queue: str | None, statuses: str, as_json: bool
) -> None:
    """Cancel jobs: waiting ones at once, running ones aborted by their worker within about a second.

    Name the jobs by id, or all of an actor's (`--actor`, `--queue`, `--status`). A cancelled job is
    final: it is never retried, and its ledger row says who cancelled it and when.
    """
    if bool(message_ids) == bool(actor):
        raise click.UsageError("Give message ids, or --actor (not both).")
    settings = load_settings()
    require_database(settings)
    db.configure(settings.database_url)
    wanted = [s.strip() for s in statuses.split(",") if s.strip()]
    with db.session_scope() as session:
        outcomes = cancels.request_cancel(
            session, message_ids=message_ids, actor=actor, queue=queue, statuses=wanted, by=_who()
        )
    if as_json:
        click.echo(json.dumps([o.as_dict() for o in outcomes]))
        return
    for outcome in outcomes:
        click.echo(f"{outcome.message_id}  {outcome.outcome}")
    click.echo(f"{sum(o.outcome in ('cancelled', 'cancelling') for o in outcomes)} job(s) cancelled.")


def _who() -> str:
    """`bookjobs cancel` as `user@host`, for the ledger row."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    return f"bookjobs cancel ({user}@{socket.gethostname()})"


@click.command()
@click.argument("view", type=click.Choice(inspection.VIEWS))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@clear_errors
def inspect(view: str, as_json: bool) -> None:
    """What the workers are doing, as `celery inspect` told: running jobs by worker (active), jobs
    held but not started (reserved), delayed jobs with their ETA (scheduled), per-process figures
    (stats). Read from the ledger and the workers' heartbeats (at most 5 s old)."""
    settings = load_settings()
    require_database(settings)
    db.configure(settings.database_url)
    with db.session_scope() as session:
        report = inspection.report(session, view, heartbeat_interval=settings.heartbeat_interval)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    for line in _inspect_lines(view, report):
        click.echo(line)


def _inspect_lines(view: str, report) -> list[str]:
    if view == "scheduled":
        return [
            f"{j['eta']}  {j['actor_name']:<28} {j['queue_name']:<10} {j['message_id']}" for j in report
        ] or ["No delayed jobs."]
    if view == "stats":
        return [
            f"{w['worker_id']}: processed {w['processed']}, failed {w['failed']}, "
            f"in flight {w['in_flight']}, held {w['reserved']}, {w['rss_mb'] or 0:.0f} MB, "
            f"up {w['uptime_seconds']:.0f} s" + (" (stale)" if w["stale"] else "")
            for w in report
        ] or ["No workers."]
    lines = []
    for worker, jobs in report.items():
        lines.append(f"{worker}: {len(jobs)}")
        for job in jobs:
            runtime = f"  {job['runtime_seconds']:.1f} s" if job.get("runtime_seconds") is not None else ""
            lines.append(f"  {job['actor_name']:<28} {job['queue_name']:<10} {job['message_id']}{runtime}")
    return lines or ["Nothing."]
