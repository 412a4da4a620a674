"""The dashboard as a daily tool, on PostgreSQL and RabbitMQ: per-actor figures, search, progress,
live regions, queue samples."""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

import tests.support.actors as test_actors
from broker.jobs import flush_ledger
from dashboard.app import create_app
from domain import actor_stats, db
from domain.models.base import utcnow
from domain.models.jobs import QueueSample
from periodic.sampler import QueueSampler
from tests.support.ledger import insert_finished_jobs, wait_for, wait_for_status

pytestmark = pytest.mark.integration
TOKEN = "daily-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(service_settings, rabbitmq_broker):
    app = create_app(replace(service_settings, dashboard_token=TOKEN), rabbitmq_broker)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def test_the_actors_api_counts_a_known_set_of_jobs_and_gives_exact_percentiles(client):
    durations = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 1000.0]
    outcomes = [("done", d, 0) for d in durations[:7]] + [("dead", d, 2) for d in durations[7:]]
    insert_finished_jobs("echo", outcomes, finished_ago=timedelta(minutes=5))
    insert_finished_jobs("echo", [("done", 5.0, 0)], finished_ago=timedelta(hours=3))  # outside 1 h

    [echo] = client.get("/api/actors?window=1h", headers=AUTH).json()

    expected_p95 = statistics.quantiles(durations, n=20, method="inclusive")[-1]
    assert (echo["actor"], echo["runs"], echo["done"], echo["dead"], echo["retried"]) == ("echo", 10, 7, 3, 6)
    assert echo["failure_rate"] == 0.3
    assert echo["p50_ms"] == statistics.median(durations) and echo["p95_ms"] == round(expected_p95, 2)
    assert echo["max_ms"] == 1000.0 and echo["approximate"] is False
    detail = client.get("/api/actors/echo?window=1h", headers=AUTH).json()
    assert detail["top_errors"] == [{"error_type": "PermanentError", "count": 3}]
    assert sum(bar["per_minute"] for bar in detail["throughput_per_minute"]) == 10  # one-minute bars
    page = client.get("/actors?window=1h", headers=AUTH).text
    assert '<td class="num runs">10</td>' in page and "30.0 %" in page


def test_closed_hours_are_rolled_up_and_a_week_adds_them_to_the_last_hours(client):
    day_before = [("done", 100.0, 0)] * 50 + [("dead", 400.0, 1)] * 50
    insert_finished_jobs("echo", day_before, finished_ago=timedelta(hours=30))
    insert_finished_jobs("echo", [("done", 100.0, 0)] * 10, finished_ago=timedelta(minutes=2))

    [week] = client.get("/api/actors?window=7d", headers=AUTH).json()
    [day] = client.get("/api/actors?window=24h", headers=AUTH).json()

    with db.session_scope() as session:
        rolled = session.execute(text("SELECT sum(done), sum(dead) FROM bookjobs_actor_hours")).one()
        through = actor_stats.rolled_through(session)
    assert tuple(rolled) == (50, 50) and through > utcnow() - timedelta(hours=2)
    assert (week["runs"], week["done"], week["dead"], week["retried"]) == (110, 60, 50, 50)
    assert week["approximate"] is True and week["max_ms"] == 400.0
    assert 100 / 1.19 <= week["p50_ms"] <= 100 * 1.19 and 400 / 1.19 <= week["p95_ms"] <= 400
    assert (day["runs"], day["approximate"]) == (10, False)


def test_search_finds_jobs_by_a_word_in_their_arguments_an_id_prefix_and_a_time_range(
    client, rabbitmq_broker
):
    wanted = test_actors.echo_text.send("Лёгкий туман над рекою").message_id
    other = test_actors.echo_text.send("Совсем другое").message_id
    flush_ledger(rabbitmq_broker)

    by_word = client.get("/api/jobs", params={"text": "туман"}, headers=AUTH).json()["jobs"]
    by_prefix = client.get("/api/jobs", params={"id_prefix": wanted[:8]}, headers=AUTH).json()["jobs"]
    future = (utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    none_later = client.get("/api/jobs", params={"since": future}, headers=AUTH).json()["jobs"]
    page = client.get("/jobs", params={"text": "ТУМАН", "actor": "echo_text"}, headers=AUTH).text

    assert [j["message_id"] for j in by_word] == [wanted]
    assert [j["message_id"] for j in by_prefix] == [wanted]
    assert none_later == [] and wanted in page and other not in page
    bad = client.get("/api/jobs", params={"since": "yesterday"}, headers=AUTH)
    assert bad.status_code == 422 and "since must be a time like" in bad.json()["detail"]
    with db.session_scope() as session:
        definition = session.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_bookjobs_jobs_search'")
        )
    assert "gin_trgm_ops" in definition


def test_a_running_job_reports_its_progress_to_the_ledger_and_the_api(client, start_worker):
    start_worker(threads=2)
    message_id = test_actors.steps_with_progress.send("книга", 8, 0.6).message_id

    def midway():
        answer = client.get(f"/api/jobs/{message_id}", headers=AUTH)
        if answer.status_code == 404:
            return None  # the sender's ledger event may wait out its linger (50 ms) before it shows
        progress = answer.json()["progress"]
        return progress if progress and 0 < progress["done"] < 8 else None

    seen = wait_for(midway, timeout=20, what="progress between the first and the last step")
    wait_for_status(message_id, "done")
    final = client.get(f"/api/jobs/{message_id}", headers=AUTH).json()["progress"]

    assert seen["total"] == 8 and seen["note"] == "steps"
    assert final == {"done": 8, "total": 8, "note": "steps", "percent": 100.0}
    page = client.get(f"/queues/default/standard/{message_id}", headers=AUTH).text
    assert '<progress max="8" value="8">' in page


def test_a_page_answers_its_live_regions_as_json_with_values_readable_and_escaped(client, rabbitmq_broker):
    message_id = test_actors.echo_text.send("<script>alert(1)</script> Привет, мир").message_id
    flush_ledger(rabbitmq_broker)
    path = f"/queues/default/standard/{message_id}"

    page = client.get(path, headers=AUTH).text
    live = client.get(path, headers={**AUTH, "X-Bookjobs-Live": "1"})

    assert "Привет, мир" in page and "\\u041f" not in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert live.headers["content-type"] == "application/json"
    assert set(live.json()["regions"]) == {"status", "details", "timeline", "outcome"}
    assert "enqueued" in live.json()["regions"]["status"]


def test_the_sampler_records_queue_depth_and_the_overview_and_metrics_show_the_backlog(
    client, rabbitmq_broker, service_settings
):
    for value in range(5):
        test_actors.echo.send(value)
    flush_ledger(rabbitmq_broker)
    sampler = QueueSampler(rabbitmq_broker, service_settings.broker_url, every=1.0)

    stored = sampler.sample()

    with db.session_scope() as session:
        latest = session.scalar(text("SELECT max(sampled_at) FROM bookjobs_queue_samples"))
        sample = session.get(QueueSample, ("default", latest))
    assert stored >= 2 and sample.ready == 5 and sample.oldest_age_seconds >= 0
    overview = client.get("/", headers=AUTH).text
    assert 'id="backlog-chart"' in overview and "default 5" in overview
    metrics = client.get("/metrics", headers=AUTH).text
    assert 'bookjobs_queue_messages{kind="ready",queue="default"} 5.0' in metrics
    assert 'bookjobs_oldest_ready_age_seconds{queue="default"}' in metrics
