"""`bookjobs inspect` against a known set of running, prefetched and delayed jobs on RabbitMQ."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

from fastapi.testclient import TestClient

import tests.support.actors as test_actors
from broker.jobs import flush_ledger
from dashboard.app import create_app
from domain import cancels, db
from tests.conftest import REPO_ROOT
from tests.support.ledger import wait_for, wait_for_status


def inspect(view: str, env: dict) -> object:
    done = subprocess.run(
        [sys.executable, "-m", "broker", "inspect", view, "--json"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_inspect_shows_running_held_and_delayed_jobs_and_each_worker_s_figures(
    rabbitmq_broker, start_worker, service_env, service_settings
):
    test_actors.create_tables()
    worker = start_worker(processes=1, threads=1, BOOKJOBS_HEARTBEAT_SECONDS="0.5")
    running = test_actors.sleepy_loop.send("inspect-running", 60)
    wait_for_status(running.message_id, "running", timeout=30)
    held = [test_actors.sleepy_loop.send(f"inspect-held-{i}", 60).message_id for i in range(4)]
    delayed = [
        test_actors.echo.send_with_options(args=(i,), delay=600_000 + i * 1000).message_id for i in range(2)
    ]
    flush_ledger(rabbitmq_broker)

    def reserved_now():
        report = inspect("reserved", service_env)
        ids = {job["message_id"] for jobs in report.values() for job in jobs}
        return ids == set(held) and report

    reserved = wait_for(reserved_now, timeout=20, what="the heartbeat to report the held jobs")
    active = inspect("active", service_env)
    scheduled = inspect("scheduled", service_env)
    stats = inspect("stats", service_env)
    with TestClient(create_app(replace(service_settings, dashboard_token="t"), rabbitmq_broker)) as client:
        served = client.get("/api/workers/scheduled", headers={"Authorization": "Bearer t"}).json()
        unknown = client.get("/api/workers/everything", headers={"Authorization": "Bearer t"})
    with db.session_scope() as session:
        cancels.request_cancel(session, actor="sleepy_loop", by="test")  # end the test quickly

    [(worker_id, jobs)] = active.items()
    assert [job["message_id"] for job in jobs] == [running.message_id]
    assert jobs[0]["actor_name"] == "sleepy_loop" and jobs[0]["runtime_seconds"] > 0
    assert list(reserved) == [worker_id]
    assert all(job["actor_name"] == "sleepy_loop" for job in reserved[worker_id])
    assert [job["message_id"] for job in scheduled] == delayed  # the soonest first, with the ETA
    assert all(job["eta"] and job["status"] == "delayed" for job in scheduled)
    assert served == scheduled and unknown.status_code == 422  # the API serves the same documents
    [figures] = [w for w in stats if w["worker_id"] == worker_id]
    assert figures["pid"] in worker.child_pids()
    assert (figures["in_flight"], figures["reserved"], figures["stale"]) == (1, 4, False)
    assert figures["rss_mb"] > 20 and figures["uptime_seconds"] > 0
