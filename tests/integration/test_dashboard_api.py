"""The dashboard's JSON API on the real RabbitMQ and PostgreSQL: every endpoint, auth, 4xx, rate limit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

import tests.support.actors as test_actors
from dashboard.app import create_app
from domain import db
from domain.models.base import utcnow
from domain.models.reading import ReadingSession
from tests.support.ledger import wait_for, wait_for_status

pytestmark = pytest.mark.integration
TOKEN = "dashboard-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(service_settings, rabbitmq_broker):
    settings = replace(service_settings, dashboard_token=TOKEN)
    test_actors.create_tables()
    with TestClient(create_app(settings, rabbitmq_broker), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def worker(start_worker):
    return start_worker(processes=1, threads=4)


def test_every_read_endpoint_refuses_a_missing_or_wrong_token(client):
    for path in ("/api/queues", "/api/workers", "/api/schedules", "/api/jobs", "/api/jobs/x", "/metrics"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401, path
    assert client.post("/api/jobs", json={"actor": "health_check"}).status_code == 401
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_a_job_enqueued_by_name_runs_and_is_read_back_with_its_result(client, worker):
    sent = client.post("/api/jobs", json={"actor": "echo", "args": [41]}, headers=AUTH)

    assert sent.status_code == 201
    message_id = sent.json()["message_id"]
    wait_for_status(message_id, "done")
    job = client.get(f"/api/jobs/{message_id}", headers=AUTH).json()
    assert (job["status"], job["result"], job["actor_name"], job["queue_name"]) == (
        "done",
        41,
        "echo",
        "default",
    )
    listed = client.get("/api/jobs", params={"actor": "echo", "status": "done"}, headers=AUTH).json()
    assert [j["message_id"] for j in listed["jobs"]] == [message_id]
    workers = wait_for(
        lambda: [w for w in client.get("/api/workers", headers=AUTH).json() if w["processed"] >= 1],
        what="the worker's next heartbeat to count the job",
    )
    assert len(workers) == 1 and workers[0]["stale"] is False


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"actor": "no_such_actor"}, 404, "Unknown actor 'no_such_actor'"),
        ({"actor": "echo", "args": []}, 422, "missing a required argument: 'value'"),
        ({"actor": "echo", "args": [1], "kwargs": {"other": 2}}, 422, "unexpected keyword argument 'other'"),
        ({"actor": "echo", "args": "1"}, 422, "args"),
        ({"actor": "echo", "args": [1], "priority": 11}, 422, "priority"),
        ({"actor": "echo", "args": [1], "delay": -5}, 422, "delay"),
        ({"args": [1]}, 422, "actor"),
    ],
)
def test_a_bad_enqueue_is_refused_with_the_reason(client, body, status, reason):
    answer = client.post("/api/jobs", json=body, headers=AUTH)

    assert answer.status_code == status
    assert reason in answer.json()["detail"]


def test_api_writes_must_be_json_so_a_cross_site_form_cannot_enqueue(client):
    answer = client.post("/api/jobs", data={"actor": "health_check"}, headers=AUTH)

    assert answer.status_code == 415


def test_a_dead_job_is_requeued_with_retries_reset_and_the_two_are_linked(client, worker):
    sent = client.post("/api/jobs", json={"actor": "fails_first_time", "args": ["ch-7"]}, headers=AUTH)
    dead_id = sent.json()["message_id"]
    dead = wait_for_status(dead_id, "dead")
    assert "was not uploaded yet" in dead.error_message

    answer = client.post(f"/api/jobs/{dead_id}/requeue", headers=AUTH)

    assert answer.status_code == 201
    new_id = answer.json()["message_id"]
    assert wait_for_status(new_id, "done").retries == 0
    original = client.get(f"/api/jobs/{dead_id}", headers=AUTH).json()
    copy = client.get(f"/api/jobs/{new_id}", headers=AUTH).json()
    assert (original["requeued_as"], copy["requeued_from"]) == (new_id, dead_id)
    again = client.post(f"/api/jobs/{new_id}/requeue", headers=AUTH)
    assert again.status_code == 422 and "Only dead jobs can be requeued" in again.json()["detail"]
    assert client.post("/api/jobs/nope/requeue", headers=AUTH).status_code == 404


def test_queues_schedules_and_metrics_describe_the_real_broker(client, worker):
    client.post("/api/jobs", json={"actor": "permanent_failure", "args": ["m"]}, headers=AUTH)
    wait_for(
        lambda: (
            {q["name"]: q for q in client.get("/api/queues", headers=AUTH).json()}["default"]["dead"] == 1
        ),
        what="a dead letter",
    )

    queues = {q["name"]: q for q in client.get("/api/queues", headers=AUTH).json()}
    schedules = {s["actor"]: s for s in client.get("/api/schedules", headers=AUTH).json()}
    metrics = client.get("/metrics", headers=AUTH).text

    assert queues["default"]["consumers"] >= 1 and queues["default"]["dead"] == 1
    assert schedules["health_check"]["cron"] == "* * * * *" and schedules["health_check"]["next_run"]
    assert 'bookjobs_queue_messages{kind="dead",queue="default"} 1.0' in metrics
    assert 'bookjobs_jobs{actor="permanent_failure",status="dead"} 1.0' in metrics
    assert "bookjobs_job_duration_seconds_bucket" in metrics


def test_admin_reading_session_endpoints_work_and_are_limited_to_five_a_minute(client, worker):
    with db.session_scope() as session:
        session.add(ReadingSession(user_id=1, book_id=1, started_at=utcnow() - timedelta(hours=3)))

    now = client.post("/api/admin/reading-sessions/cleanup", headers=AUTH).json()
    stats = client.get("/api/admin/reading-sessions/cleanup-stats", params={"hours": 24}, headers=AUTH).json()
    queued = client.post("/api/admin/reading-sessions/cleanup-async", headers=AUTH)
    bad_hours = client.get("/api/admin/reading-sessions/cleanup-stats", params={"hours": 169}, headers=AUTH)
    fifth = client.get("/api/admin/reading-sessions/cleanup-stats", headers=AUTH)
    sixth = client.get("/api/admin/reading-sessions/cleanup-stats", headers=AUTH)

    assert now["closed_count"] == 1 and now["error"] is None and now["deadline"]
    assert stats["total_closed"] == 1 and stats["period_hours"] == 24
    assert queued.status_code == 202 and queued.json()["status"] == "PENDING"
    assert wait_for_status(queued.json()["task_id"], "done").result["closed_count"] == 0
    assert bad_hours.status_code == 422
    assert fifth.status_code == 200
    assert sixth.status_code == 429 and int(sixth.headers["retry-after"]) >= 1


def test_every_answer_carries_the_security_headers(client):
    for answer in (client.get("/login"), client.get("/api/queues", headers=AUTH), client.get("/api/docs")):
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_sql_looking_filters_are_only_text_and_secrets_stay_redacted_on_every_page(client, worker):
    login = client.post("/api/jobs", json={"actor": "issue_login", "args": [3, "hunter2"]}, headers=AUTH)
    message_id = login.json()["message_id"]
    wait_for_status(message_id, "done")

    for text in ("'; DROP TABLE bookjobs_jobs; --", "%", "_", "\\\\", "' OR '1'='1"):
        found = client.get("/api/jobs", params={"text": text, "actor": "x' OR 1=1 --"}, headers=AUTH)
        assert found.status_code == 200 and found.json()["jobs"] == [], text
    assert [j["message_id"] for j in client.get("/api/jobs", headers=AUTH).json()["jobs"]] == [message_id]

    client.post("/login", data={"token": TOKEN, "next": "/"})
    pages = [
        client.get(f"/api/jobs/{message_id}", headers=AUTH).text,
        client.get(f"/queues/default/standard/{message_id}").text,
        client.get("/queues/default/standard").text,
    ]
    assert all("hunter2" not in page and "secret-token-3" not in page for page in pages)
    assert "***" in pages[1]
