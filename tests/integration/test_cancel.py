"""Cancelling jobs on RabbitMQ and PostgreSQL: waiting ones never run, a running one is aborted."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace

from sqlalchemy import func, select

import tests.support.actors as test_actors
from broker.inspect import BrokerInspector
from broker.jobs import flush_ledger
from broker.ledger import Job
from domain import cancels, db
from tests.conftest import REPO_ROOT
from tests.support.ledger import wait_for, wait_for_status


def runs_of(key: str) -> int:
    with db.session_scope() as session:
        return session.scalar(
            select(func.count()).select_from(test_actors.attempts).where(test_actors.attempts.c.key == key)
        )


def row(message_id: str) -> Job:
    with db.session_scope() as session:
        job = session.get(Job, message_id)
        session.expunge(job)
        return job


def test_queued_and_delayed_jobs_cancelled_from_the_command_line_never_run(
    rabbitmq_broker, start_worker, service_env, service_settings
):
    test_actors.create_tables()
    queued = test_actors.sleepy_loop.send("cancel-queued", 0)
    kept = test_actors.sleepy_loop.send("kept", 0)
    delayed = test_actors.sleepy_loop.send_with_options(args=("cancel-delayed", 0), delay=1500)
    flush_ledger(rabbitmq_broker)

    done = subprocess.run(
        [sys.executable, "-m", "broker", "cancel", queued.message_id, delayed.message_id, "--json"],
        env=service_env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    start_worker(processes=1, threads=2)
    wait_for_status(kept.message_id, "done")
    time.sleep(3)  # past the delayed job's ETA, and time for both deliveries to be skipped

    assert {o["message_id"]: o["outcome"] for o in json.loads(done.stdout)} == {
        queued.message_id: "cancelled",
        delayed.message_id: "cancelled",
    }
    assert (runs_of("cancel-queued"), runs_of("cancel-delayed"), runs_of("kept")) == (0, 0, 1)
    for message in (queued, delayed):
        job = row(message.message_id)
        assert job.status == "cancelled" and job.cancelled_by.startswith("bookjobs cancel (")
        assert job.cancel_requested_at is not None
    with BrokerInspector(service_settings.broker_url) as inspector:
        counts = inspector.queue_counts("default")
    assert (counts.ready, counts.delayed, counts.dead) == (0, 0, 0)  # acked, not dead-lettered


def test_a_running_job_is_aborted_within_a_second_or_two_and_never_retried(
    rabbitmq_broker, start_worker, service_settings
):
    test_actors.create_tables()
    start_worker(processes=1, threads=2)
    running = test_actors.sleepy_loop.send("long", 60)
    wait_for(lambda: runs_of("long") == 1, timeout=30, what="the job to start")
    wait_for_status(running.message_id, "running")

    asked = time.monotonic()
    with db.session_scope() as session:
        [outcome] = cancels.request_cancel(session, message_ids=[running.message_id], by="test")
    job = wait_for_status(running.message_id, "cancelled", timeout=10)
    took = time.monotonic() - asked
    after = test_actors.echo.send(5)
    wait_for_status(after.message_id, "done")  # the worker thread lives on
    time.sleep(1)

    assert outcome.outcome == "cancelling"
    assert took < 3, took
    assert (job.error_type, job.retries, job.cancelled_by) == ("JobCancelled", 0, "test")
    assert (runs_of("long"), runs_of("long:finished")) == (1, 0)
    with BrokerInspector(service_settings.broker_url) as inspector:
        counts = inspector.queue_counts("default")
    assert (counts.ready, counts.delayed, counts.dead) == (0, 0, 0)


def test_the_api_cancels_a_waiting_job_and_says_why_it_cannot_cancel_a_finished_one(
    rabbitmq_broker, start_worker, service_settings
):
    from fastapi.testclient import TestClient

    from dashboard.app import create_app

    settings = replace(service_settings, dashboard_token="t")
    json_auth = {"Authorization": "Bearer t", "Content-Type": "application/json"}
    waiting = test_actors.echo.send_with_options(args=(1,), delay=60_000)
    with TestClient(create_app(settings, rabbitmq_broker), base_url="http://127.0.0.1") as client:
        cancelled = client.post(f"/api/jobs/{waiting.message_id}/cancel", headers=json_auth)
        again = client.post(f"/api/jobs/{waiting.message_id}/cancel", headers=json_auth)
        unknown = client.post("/api/jobs/nope/cancel", headers=json_auth)
        shown = client.get(f"/api/jobs/{waiting.message_id}", headers=json_auth).json()

    assert cancelled.json() == {"message_id": waiting.message_id, "outcome": "cancelled"}
    assert again.status_code == 409 and "is cancelled" in again.json()["detail"]
    assert unknown.status_code == 404
    assert shown["status"] == "cancelled" and shown["cancelled_by"] == "dashboard API"
