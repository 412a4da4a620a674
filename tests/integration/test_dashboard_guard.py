"""What a hostile page in the operator's browser could try: DNS rebinding, cross-site writes,
guessing the token, reusing another session's CSRF token. Each is refused before any route runs."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from dashboard.app import create_app
from domain import db
from domain.models.reading import ReadingSession

pytestmark = pytest.mark.integration
TOKEN = "guard-test-token"


@pytest.fixture
def open_dashboard(service_settings, rabbitmq_broker):
    """The dashboard without a token, as it runs on loopback."""
    with TestClient(
        create_app(service_settings, rabbitmq_broker), base_url="http://127.0.0.1:8000"
    ) as client:
        yield client


@pytest.fixture
def tokened_app(service_settings, rabbitmq_broker):
    return create_app(replace(service_settings, dashboard_token=TOKEN), rabbitmq_broker)


def sessions_open() -> int:
    with db.session_scope() as session:
        return session.query(ReadingSession).count()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.nip.io"])
def test_without_a_token_a_foreign_host_header_reads_and_writes_nothing(open_dashboard, host):
    read = open_dashboard.get("/api/jobs", headers={"Host": host})
    write = open_dashboard.post("/api/admin/reading-sessions/cleanup", headers={"Host": host})

    assert read.status_code == write.status_code == 421
    assert "DASHBOARD_HOSTS" in read.json()["detail"]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "[::1]:8000"])
def test_loopback_names_are_served(open_dashboard, host):
    assert open_dashboard.get("/api/jobs", headers={"Host": host}).status_code == 200


def test_dashboard_hosts_lists_the_names_a_tokened_dashboard_answers_to(service_settings, rabbitmq_broker):
    settings = replace(service_settings, dashboard_token=TOKEN, dashboard_hosts=("jobs.example.org",))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings, rabbitmq_broker), base_url="http://jobs.example.org") as client:
        assert client.get("/api/jobs", headers=auth).status_code == 200
        assert client.get("/api/jobs", headers={**auth, "Host": "evil.example"}).status_code == 421


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"Origin": "https://evil.example"}, None, 403),
        ({"Origin": "null"}, None, 403),
        ({"Sec-Fetch-Site": "cross-site"}, None, 403),
        ({"Content-Type": "text/plain"}, "{}", 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "a=1", 415),
        ({"Content-Type": "multipart/form-data; boundary=x"}, "--x--", 415),
    ],
)
def test_cross_site_or_non_json_writes_to_the_api_are_refused(open_dashboard, headers, body, status):
    for path in ("/api/admin/reading-sessions/cleanup", "/api/admin/reading-sessions/cleanup-async"):
        answer = open_dashboard.post(path, headers=headers, content=body)
        assert answer.status_code == status, (path, answer.text)


def test_a_same_origin_json_write_still_works(open_dashboard):
    answer = open_dashboard.post(
        "/api/admin/reading-sessions/cleanup",
        headers={"Origin": "http://127.0.0.1:8000", "Content-Type": "application/json"},
        content="{}",
    )
    assert answer.status_code == 200


def test_wrong_tokens_are_slowed_down_with_429_and_a_growing_wait(tokened_app):
    with TestClient(tokened_app, base_url="http://127.0.0.1") as client:
        answers = [client.post("/login", data={"token": f"guess{n}"}).status_code for n in range(8)]
        assert answers[:5] == [401] * 5
        assert answers[5:] == [429] * 3
        refused = client.post("/login", data={"token": TOKEN})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_a_csrf_token_of_one_session_is_refused_in_another(tokened_app):
    def logged_in() -> TestClient:
        client = TestClient(tokened_app, base_url="http://127.0.0.1")
        client.post("/login", data={"token": TOKEN, "next": "/"})
        return client

    first, second = logged_in(), logged_in()
    with first, second:
        token_of_first = re.search(r'name="csrf_token" value="([^"]+)"', first.get("/").text).group(1)
        stolen = second.post("/logout", data={"csrf_token": token_of_first}, follow_redirects=False)
        own = first.post("/logout", data={"csrf_token": token_of_first}, follow_redirects=False)
    assert stolen.status_code == 403
    assert own.status_code == 303
