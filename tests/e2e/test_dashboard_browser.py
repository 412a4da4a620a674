"""The dashboard in headless Chromium: log in, find a dead job, requeue it, watch it become done."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from broker.jobs import flush_ledger
from tests.conftest import REPO_ROOT
from tests.support.browser import chromium
from tests.support.ledger import wait_for, wait_for_status
from tests.support.processes import free_port

pytestmark = pytest.mark.e2e
TOKEN = "browser-test-token"
ARTIFACTS = REPO_ROOT / "test-artifacts"


@pytest.fixture
def dashboard_url(service_env, tmp_path):
    """A real `bookjobs dashboard` process on this test's services."""
    port = free_port()
    env = {**service_env, "DASHBOARD_TOKEN": TOKEN}
    log = (tmp_path / "dashboard.log").open("wb")
    command = [
        sys.executable,
        "-m",
        "broker",
        "dashboard",
        "--port",
        str(port),
        "--module",
        "tests.support.actors",
    ]
    process = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    wait_for(answers, timeout=30, what=f"the dashboard on port {port}")
    yield url
    process.terminate()
    process.wait(10)
    log.close()


@pytest.fixture
def browser():
    with chromium() as launched:
        yield launched


def test_an_operator_logs_in_requeues_a_dead_job_and_sees_it_done(
    dashboard_url, browser, rabbitmq_broker, start_worker
):
    import tests.support.actors as test_actors

    test_actors.create_tables()
    start_worker(processes=1, threads=2)
    dead_id = test_actors.fails_first_time.send("chapter-3").message_id
    wait_for_status(dead_id, "dead")
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    page.goto(f"{dashboard_url}/")
    assert page.url.startswith(f"{dashboard_url}/login")
    page.fill("input[name=token]", "wrong")
    page.click("button:has-text('Log in')")
    assert "Wrong token." in page.inner_text("main")
    page.fill("input[name=token]", TOKEN)
    page.click("button:has-text('Log in')")
    page.wait_for_selector("h1:has-text('Overview')")
    assert "was not uploaded yet" in page.inner_text("#failures")
    page.screenshot(path=str(ARTIFACTS / "dashboard-overview.png"), full_page=True)

    page.click("#queues a:has-text('default')")
    page.click("a:has-text('failed')")
    page.click(f"a[href$='{dead_id}']")
    assert "PermanentError" in page.inner_text("#error")
    page.screenshot(path=str(ARTIFACTS / "dashboard-dead-job.png"), full_page=True)
    page.check("input[name=confirm]")
    page.click("#requeue")

    assert f"Requeued {dead_id}" in page.inner_text("[role=status]")
    new_id = page.url.split("?")[0].rsplit("/", 1)[-1]
    assert new_id != dead_id and dead_id in page.inner_text("#job")
    wait_for_status(new_id, "done")
    page.reload()
    assert page.inner_text("h1 .status") == "done"
    assert '"attempts": 2' in page.inner_text("#result")
    page.screenshot(path=str(ARTIFACTS / "dashboard-requeued-job.png"), full_page=True)


def logged_in(browser, dashboard_url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{dashboard_url}/login")
    page.fill("input[name=token]", TOKEN)
    page.click("button:has-text('Log in')")
    page.wait_for_selector("h1:has-text('Overview')")
    return page


def test_a_form_post_without_the_csrf_token_is_refused(dashboard_url, browser):
    page = logged_in(browser, dashboard_url)

    answer = page.request.post(
        f"{dashboard_url}/queues/default/standard/purge", form={"confirm": "yes", "csrf_token": "forged"}
    )

    assert answer.status == 403 and "CSRF check failed" in answer.text()


def test_an_operator_reads_russian_watches_jobs_finish_and_progress_move_without_reloading(
    dashboard_url, browser, rabbitmq_broker, start_worker
):
    import tests.support.actors as test_actors

    start_worker(processes=1, threads=2)
    first = test_actors.echo_text.send("Лёгкий туман над рекою").message_id
    wait_for_status(first, "done")
    page = logged_in(browser, dashboard_url)

    # Arguments and results read as written, not as \uXXXX.
    page.goto(f"{dashboard_url}/queues/default/standard/{first}")
    assert "Лёгкий туман над рекою" in page.inner_text("#args") and "\\u" not in page.inner_text("#args")
    assert "Лёгкий туман" in page.inner_text("#result")

    # A job sent while the queue page is open appears, and finishes, without a reload.
    page.goto(f"{dashboard_url}/queues/default/standard")
    page.evaluate("window.notReloaded = true")
    second = test_actors.echo_text.send("Новая глава").message_id
    page.wait_for_selector(f"#jobs tr:has(a[href$='{second}']) .status-done", timeout=15_000)
    assert page.evaluate("window.notReloaded") is True

    # A running job's bar moves on its own page.
    steps = test_actors.steps_with_progress.send("книга", 12, 0.5).message_id
    flush_ledger(rabbitmq_broker)  # its page exists at once
    page.goto(f"{dashboard_url}/queues/default/standard/{steps}")
    page.evaluate("window.notReloaded = true")
    bar = "document.querySelector('#progress progress')?.value ?? 0"  # the CSP forbids wait_for_function
    early = wait_for(lambda: page.evaluate(bar) >= 2 and page.evaluate(bar), timeout=15, what="the bar at 2")
    wait_for(lambda: page.evaluate(bar) > early, timeout=15, what=f"the bar past {early}")
    page.wait_for_selector("h1 .status-done", timeout=20_000)
    assert page.inner_text("#progress .progress-text").startswith("12 / 12")
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=str(ARTIFACTS / "dashboard-progress.png"), full_page=True)

    # The pause toggle stops the updates, and says so; a hidden tab asks for nothing either.
    updates = "Number(document.body.dataset.liveUpdates || 0)"
    page.click("#live-toggle")
    assert page.evaluate("document.body.dataset.live") == "paused"
    assert page.inner_text("#live-toggle") == "Resume live updates"
    paused_at = page.evaluate(updates)
    page.wait_for_timeout(4500)
    assert page.evaluate(updates) == paused_at
    page.click("#live-toggle")
    wait_for(lambda: page.evaluate(updates) > paused_at, timeout=10, what="updates after resuming")
    page.evaluate(
        "Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    hidden_at = page.evaluate(updates)
    page.wait_for_timeout(4500)
    assert page.evaluate("document.body.dataset.live") == "hidden" and page.evaluate(updates) == hidden_at

    # The actors page counts what ran; search finds a job by a word in its arguments.
    page.goto(f"{dashboard_url}/actors?window=1h")
    assert page.inner_text("tr[data-actor=echo_text] td.runs") == "2"
    assert page.inner_text("tr[data-actor=steps_with_progress] td.done") == "1"
    page.screenshot(path=str(ARTIFACTS / "dashboard-actors.png"), full_page=True)
    page.goto(f"{dashboard_url}/jobs")
    page.fill("#search input[name=text]", "туман")
    page.click("#search button")
    rows = page.inner_text("#jobs tbody")
    assert first[:13] in rows and second[:13] not in rows
