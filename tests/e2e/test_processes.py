"""The real `bookjobs` processes, as an operator runs them."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.support.ledger import wait_for, wait_for_status
from tests.support.processes import free_port

pytestmark = pytest.mark.e2e


def bookjobs(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "broker", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_up_with_no_environment_runs_health_check_end_to_end_on_sqlite(tmp_path: Path):
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    process = subprocess.Popen(
        [sys.executable, "-m", "broker", "up", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if line.startswith("health_check") or not line:
            break
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=30)
    output = "".join(lines) + rest

    assert process.returncode == 0, output
    message_id = lines[-1].split()[1]
    result = json.loads(lines[-1].split("done: ", 1)[1])
    assert result["status"] == "healthy"
    row = (
        sqlite3.connect(tmp_path / "bookjobs.db")
        .execute(
            "select status, actor_name, queue_name from bookjobs_jobs where message_id = ?", (message_id,)
        )
        .fetchone()
    )
    assert row == ("done", "health_check", "default")
    assert "bookjobs stopped." in output


def test_send_wait_status_and_purge_against_the_real_services(service_env, start_worker, postgres_url):
    worker = start_worker()

    sent = bookjobs("send", "health_check", "--wait", env=service_env)
    assert sent.returncode == 0, sent.stderr
    message_id, document = sent.stdout.split("\n", 1)
    assert json.loads(document)["status"] == "healthy"
    assert wait_for_status(message_id.strip(), "done").actor_name == "health_check"

    status = bookjobs("status", "--json", env=service_env)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    default = next(q for q in report["queues"] if q["name"] == "default")
    assert default["ready"] == 0 and default["consumers"] >= 1
    assert report["queue_type"] == "classic" and "0-10" in report["priorities"]
    assert {int(w["worker_id"].rsplit(":", 1)[1]) for w in report["workers"]} & worker.child_pids()

    worker.stop()
    for _ in range(3):
        assert bookjobs("send", "health_check", env=service_env).returncode == 0
    purged = bookjobs("purge", "default", "--yes", env=service_env)
    assert purged.returncode == 0, purged.stderr
    assert "default: 3 messages removed" in purged.stdout


def test_status_with_an_unreachable_database_or_broker_says_so_in_one_line(service_env):
    env = dict(service_env, DATABASE_URL="postgresql+psycopg2://postgres@127.0.0.1:1/none")
    status = bookjobs("status", env=env)
    assert status.returncode == 1
    assert status.stderr.startswith(
        "Error: cannot reach the database at postgresql+psycopg2://postgres@127.0.0.1:1/none ("
    )
    assert "db upgrade" not in status.stderr  # it is not a migration that is missing

    env = dict(service_env, BROKER_URL="amqp://guest:guest@127.0.0.1:1/")
    status = bookjobs("status", env=env)
    assert status.returncode == 1
    assert status.stderr.startswith("Error: cannot reach the broker")
    assert len(status.stderr.strip().splitlines()) == 1


def test_up_with_a_real_broker_supervises_worker_processes_until_interrupted(service_env):
    process = subprocess.Popen(
        [sys.executable, "-m", "broker", "up", "--processes", "1", "--port", str(free_port())],
        env=service_env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        sent = bookjobs("send", "health_check", "--wait", "--timeout", "60", env=service_env, timeout=90)
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout.split("\n", 1)[1])["status"] == "healthy"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "bookjobs is up: `bookjobs worker --processes 1`" in output
    assert "bookjobs is up: `bookjobs dashboard --host 127.0.0.1 --port" in output


def test_ctrl_c_on_up_with_rabbitmq_stops_every_process_cleanly_and_repeats_no_job(
    service_env, rabbitmq_broker, start_worker
):
    import tests.support.actors as test_actors
    from broker.send_many import send_many
    from domain import db, ledger
    from tests.support.effects import effects, extra_runs, runs_per_message

    test_actors.create_tables()
    command = [
        sys.executable,
        "-m",
        "broker",
        "up",
        "-p",
        "2",
        "-m",
        "tests.support.actors",
        "--no-dashboard",
    ]
    process = subprocess.Popen(
        command,
        env=service_env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives a foreground job
    )
    try:
        sent = [
            m.message_id for m in send_many(test_actors.record_effect, [[f"c{n}", 0.02] for n in range(2000)])
        ]
        wait_for(lambda: len(effects()) > 100, timeout=60, what="the first jobs done")
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: SIGINT to the whole foreground group
        started = time.monotonic()
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    stopping = time.monotonic() - started

    assert process.returncode == 0, output
    assert output.rstrip().endswith("bookjobs stopped."), output[-2000:]
    assert "Killing worker process" not in output and "Traceback" not in output
    assert stopping < 30
    with db.session_scope() as session:
        assert ledger.workers(session) == []  # every worker said goodbye: no stale row
    start_worker(processes=1, threads=8)  # the rest of the jobs, and anything handed back
    wait_for(lambda: len(effects()) >= len(sent), timeout=120, interval=0.5, what="every effect")
    assert effects() == set(sent)
    assert extra_runs() == 0, runs_per_message()  # counted per run: nothing finished ran again


def test_up_demo_shows_every_domain_working_in_the_dashboard_within_a_minute(tmp_path: Path):
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "broker", "up", "--demo", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(6)]
        assert any(line.startswith("demo: book 1 processed") for line in lines), lines

        def jobs() -> dict[tuple[str, str], int]:
            url = f"http://127.0.0.1:{port}/api/jobs?per_page=200"
            with urllib.request.urlopen(url, timeout=5) as answer:
                listed = json.load(answer)["jobs"]
            return Counter((j["actor_name"], j["status"]) for j in listed)

        done = wait_for(
            lambda: (c := jobs())[("batch_generate_for_book", "done")] and c,
            timeout=60,
            what="the demo's illustrations",
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert done[("process_book", "done")] == 1 and done[("finalize_book", "done")] == 1
    assert done[("process_chapter", "done")] == 3
    assert done[("send_verification_email", "done")] == 1 and done[("send_email", "done")] == 1
    assert done[("send_verification_email", "dead")] == 1  # the mail to a missing user, on purpose
    # The demo sends it once; the scheduler's own */30 slot may run it too when the test spans :00 or :30.
    assert done[("close_abandoned_sessions", "done")] in (1, 2)
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2
    assert len(list((tmp_path / "media" / "images").rglob("*.png"))) == 5


def test_plain_periodiq_still_starts_and_lists_the_periodic_actors(service_env):
    periodiq = Path(sys.executable).with_name("periodiq")
    process = subprocess.Popen(
        [str(periodiq), "actors"],
        env=service_env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Whatever the caller ignores (nohup, a background job ignore SIGINT), periodiq gets Ctrl-C.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(4)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)

    assert "Registered periodic actors" in output
    assert "* * * * *                actors.monitoring:health_check@default" in output
    assert "Traceback" not in output
