"""The dashboard's page actions on the real services: each needs its CSRF token and a confirmation."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

import tests.support.actors as test_actors
from dashboard.app import create_app
from domain import db
from domain.models.jobs import Job
from tests.support.ledger import job, wait_for, wait_for_status

pytestmark = pytest.mark.integration
TOKEN = "pages-test-token"


@pytest.fixture
def browser_like(service_settings, rabbitmq_broker):
    """A logged-in client that keeps cookies like a browser, and the CSRF token of its pages."""
    test_actors.create_tables()
    client = TestClient(
        create_app(replace(service_settings, dashboard_token=TOKEN), rabbitmq_broker), base_url="http://127.0.0.1"
    )
    with client:
        client.post("/login", data={"token": TOKEN, "next": "/"})
        yield client


def csrf(client: TestClient, path: str = "/") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def dead_jobs(actor: str, *keys: str) -> list[str]:
    ids = [getattr(test_actors, actor).send(key).message_id for key in keys]
    return [wait_for_status(message_id, "dead").message_id for message_id in ids]


def test_an_action_without_confirmation_or_with_a_forged_token_changes_nothing(browser_like, start_worker):
    start_worker()
    [dead_id] = dead_jobs("fails_first_time", "k1")
    path = f"/queues/default/failed/{dead_id}/requeue"

    forged = browser_like.post(path, data={"csrf_token": "forged", "confirm": "yes"})
    unconfirmed = browser_like.post(path, data={"csrf_token": csrf(browser_like)})

    assert forged.status_code == 403 and unconfirmed.status_code == 400
    assert "requeued_as" not in (job(dead_id).options or {})


def test_requeue_all_takes_only_the_dead_jobs_matching_the_filter(browser_like, start_worker):
    start_worker()
    chosen = dead_jobs("fails_first_time", "chapter-1", "chapter-2")
    other = dead_jobs("permanent_failure", "chapter-3")

    answer = browser_like.post(
        "/queues/default/requeue-all",
        data={
            "csrf_token": csrf(browser_like),
            "confirm": "yes",
            "actor": "fails_first_time",
            "text": "chapter",
        },
    )

    assert "Requeued 2 dead jobs." in answer.text
    copies = [job(message_id).options["requeued_as"] for message_id in chosen]
    assert all(wait_for_status(copy, "done") for copy in copies)
    assert "requeued_as" not in (job(other[0]).options or {})


def test_a_finished_job_is_deleted_and_a_waiting_one_is_not(browser_like, rabbitmq_broker):
    waiting = test_actors.echo.send(1).message_id  # no worker: it stays enqueued
    wait_for(lambda: job(waiting), what="the ledger row")
    token = csrf(browser_like)

    refused = browser_like.post(
        f"/queues/default/standard/{waiting}/delete", data={"csrf_token": token, "confirm": "yes"}
    )

    assert refused.status_code == 422 and "still in the broker" in refused.text
    with db.session_scope() as session:
        session.get(Job, waiting).status = "done"
    deleted = browser_like.post(
        f"/queues/default/standard/{waiting}/delete", data={"csrf_token": token, "confirm": "yes"}
    )
    assert f"Deleted job {waiting}." in deleted.text and job(waiting) is None


def test_purge_empties_the_queue_and_run_now_sends_a_periodic_job(
    browser_like, rabbitmq_broker, start_worker
):
    for n in range(3):
        test_actors.echo.send(n)
    token = csrf(browser_like)

    purged = browser_like.post("/queues/default/standard/purge", data={"csrf_token": token, "confirm": "yes"})
    assert "Purged 3 messages from default (standard)." in purged.text

    start_worker()
    ran = browser_like.post("/schedules/health_check/run", data={"csrf_token": token, "confirm": "yes"})
    message_id = str(ran.url).split("?")[0].rsplit("/", 1)[-1]
    assert "Sent health_check now." in ran.text
    assert wait_for_status(message_id, "done").result["status"] == "healthy"
    not_periodic = browser_like.post("/schedules/echo/run", data={"csrf_token": token, "confirm": "yes"})
    assert not_periodic.status_code == 422 and "is not a periodic job" in not_periodic.text
