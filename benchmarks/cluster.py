"""bookjobs on a three-node RabbitMQ cluster: classic against quorum queues, and a leader lost.

    python -m benchmarks.cluster [--jobs 10000] [--repeat 2]

Starts three throw-away RabbitMQ nodes on loopback (tests/support/cluster.py; the node on 5672 is
never touched) and drains the same no-op jobs with 2 worker processes of 8 threads into a
throw-away PostgreSQL schema, on classic queues (in one vhost) and on quorum queues (in another),
rounds interleaved, medians printed. Then one more quorum drain in which the node leading the
queue is stopped after a fifth of the jobs: it prints the drain rate and the longest pause between
two jobs finishing, read from the ledger.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import threading

from sqlalchemy import func, select

from benchmarks import services
from benchmarks.noop_actors import BENCH_QUEUE, noop
from benchmarks.throughput import bookjobs_drain
from broker import runtime
from broker.settings import Settings
from domain import db
from domain.models.jobs import Job
from tests.support.cluster import rabbitmqctl, start_cluster, stop_cluster
from tests.support.ledger import count_by_status


def vhost_url(cluster, name: str) -> str:
    first = cluster.nodes[0].name
    rabbitmqctl(first, "add_vhost", name)
    rabbitmqctl(first, "set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    return ";".join(f"{node.url}{name}" for node in cluster.nodes)


def drain(url: str, database_url: str, jobs: int, queue_type: str) -> float:
    settings = Settings(broker_url=url, database_url=database_url, broker_queue_type=queue_type)
    broker = runtime.configure(settings)
    runtime.rebind_actors(broker, [noop])
    env = {"BROKER_QUEUE_TYPE": queue_type}
    try:
        return bookjobs_drain(url, database_url, jobs, 2, True, extra_env=env)
    finally:
        broker.close()


def longest_gap(since) -> float:
    """The longest time, in seconds, between two bench jobs finishing after `since`."""
    with db.session_scope() as session:
        times = sorted(
            session.scalars(
                select(Job.finished_at).where(Job.queue_name == BENCH_QUEUE, Job.finished_at >= since)
            )
        )
    return max(((b - a).total_seconds() for a, b in itertools.pairwise(times)), default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    options = parser.parse_args()
    cluster = start_cluster()
    try:
        urls = {kind: vhost_url(cluster, f"bench-{kind}") for kind in ("classic", "quorum")}
        rates: dict[str, list[float]] = {"classic": [], "quorum": []}
        with services.schema() as database_url:
            for round_number in range(options.repeat):
                order = ["classic", "quorum"] if round_number % 2 == 0 else ["quorum", "classic"]
                for kind in order:
                    rate = drain(urls[kind], database_url, options.jobs, kind)
                    rates[kind].append(rate)
                    print(f"round {round_number + 1}, {kind}: {rate:,.0f} jobs/s", flush=True)
            failover = failover_drain(cluster, urls["quorum"], database_url, options.jobs)
        classic, quorum = (statistics.median(rates[k]) for k in ("classic", "quorum"))
        print(f"\n{options.jobs:,} no-op jobs, 2 processes × 8 threads, 3-node cluster, ledger on:")
        print(f"  classic {classic:,.0f}/s, quorum {quorum:,.0f}/s: quorum / classic {quorum / classic:.2f}")
        print(
            f"  quorum with the leader stopped after {options.jobs // 5:,} jobs: {failover['rate']:,.0f}/s, "
            f"longest pause {failover['pause']:.1f} s (leader {failover['leader']})"
        )
    finally:
        stop_cluster(cluster)


def failover_drain(cluster, url: str, database_url: str, jobs: int) -> dict:
    """A quorum drain during which the queue's leader is stopped (then started again afterwards)."""
    db.configure(database_url)
    with db.session_scope() as session:
        since = session.scalar(select(func.now()))
    done_before = count_by_status("done")
    stopped: dict = {}

    def stop_the_leader() -> None:
        services.wait_until(lambda: count_by_status("done") - done_before >= jobs // 5, timeout=300)
        leader = cluster.leader_of(BENCH_QUEUE, vhost="bench-quorum")
        leader.stop_app()
        stopped["leader"] = leader

    killer = threading.Thread(target=stop_the_leader)
    killer.start()
    rate = drain(url, database_url, jobs, "quorum")
    killer.join()
    stopped["leader"].start_app()
    return {"rate": rate, "pause": longest_gap(since), "leader": stopped["leader"].name}


if __name__ == "__main__":
    main()
