"""send_many on RabbitMQ: one wait for confirms per batch, every message accounted for."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import unquote, urlsplit

import pytest

import tests.support.actors as test_actors
from broker.send_many import BulkSendError, send_many
from domain.errors import InvalidArgument
from tests.conftest import REPO_ROOT
from tests.support.ledger import count_by_status, job, wait_for

pytestmark = pytest.mark.integration


def test_a_thousand_jobs_sent_in_batches_all_run_once(rabbitmq_broker, start_worker):
    test_actors.create_tables()

    messages = send_many(test_actors.echo, [[n] for n in range(1000)], batch_size=300)

    assert len({m.message_id for m in messages}) == 1000
    start_worker(threads=8)
    wait_for(lambda: count_by_status("done") == 1000, timeout=60, what="1000 jobs done")
    assert sorted(m.get_result(block=True, timeout=10_000) for m in messages[:10]) == list(range(10))


def test_messages_the_broker_refuses_are_named_and_later_batches_are_not_sent(
    service_settings, rabbitmq_broker
):
    vhost = unquote(urlsplit(service_settings.broker_url).path.lstrip("/"))
    policy = json.dumps({"max-length": 5, "overflow": "reject-publish"})
    subprocess.run(
        [
            "rabbitmqctl",
            "-q",
            "set_policy",
            "-p",
            vhost,
            "bounded",
            "^default$",
            policy,
            "--apply-to",
            "queues",
        ],
        check=True,
        capture_output=True,
    )

    with pytest.raises(BulkSendError) as raised:
        send_many(test_actors.echo, [[n] for n in range(12)], batch_size=8)

    error = raised.value
    assert len(error.confirmed) == 5 and len(error.unconfirmed) == 7  # 3 refused + 4 never sent
    assert "7 of 12 messages were not confirmed" in str(error)


def test_bad_items_are_refused_before_anything_is_sent(rabbitmq_broker):
    with pytest.raises(InvalidArgument, match=r"Item 2: Arguments do not fit echo"):
        send_many(test_actors.echo, [[1], [1, 2], [3]])
    with pytest.raises(InvalidArgument, match=r"Item 1 must be a list of arguments or an object"):
        send_many(test_actors.echo, ["oops"])


def test_send_from_file_enqueues_each_line(service_env, tmp_path, rabbitmq_broker, start_worker):
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('[1]\n{"args": [2]}\n\n[3]\n', encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "broker",
        "send",
        "echo",
        "--from-file",
        str(jobs),
        "--module",
        "tests.support.actors",
    ]

    sent = subprocess.run(command, env=service_env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)

    assert sent.returncode == 0, sent.stderr
    assert "3 messages confirmed" in sent.stdout
    start_worker()
    wait_for(lambda: count_by_status("done") == 3, what="the three jobs done")


def test_a_message_no_queue_takes_counts_as_unconfirmed_though_the_broker_acks_it(rabbitmq_broker):
    from broker.bulk import Publication, publish_confirmed

    rabbitmq_broker.declare_queue("default", ensure=True)
    items = [
        Publication("default", b"{}"),
        Publication("no-such-queue", b"{}"),
        Publication("default", b"{}"),
    ]

    confirmations = publish_confirmed(rabbitmq_broker.parameters, items)

    assert confirmations.unconfirmed(3) == [1]


def test_bookjobs_send_exits_only_once_its_enqueued_row_is_in_the_ledger(service_env, rabbitmq_broker):
    command = [sys.executable, "-m", "broker", "send", "echo", "--args", "[5]", "-m", "tests.support.actors"]

    sent = subprocess.run(command, env=service_env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)

    assert sent.returncode == 0, sent.stderr
    row = job(sent.stdout.strip())  # read at once: no waiting for a writer that may have died
    assert row is not None and row.status == "enqueued" and row.args == [5]


def test_a_missing_module_is_one_error_line(service_env):
    command = [sys.executable, "-m", "broker", "send", "echo", "-m", "no_such_module_here"]

    sent = subprocess.run(command, env=service_env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)

    assert sent.returncode == 2
    assert sent.stderr.strip().splitlines() == [
        "Error: Cannot import module 'no_such_module_here' given with --module: "
        "No module named 'no_such_module_here'."
    ]


def test_status_shows_the_queues_of_an_apps_own_actors(service_env, rabbitmq_broker):
    rabbitmq_broker.declare_queue("reports", ensure=True)
    command = [sys.executable, "-m", "broker", "status", "--json", "-m", "tests.support.app_actors"]

    shown = subprocess.run(
        command, env=service_env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )

    assert shown.returncode == 0, shown.stderr
    queues = {q["name"]: q for q in json.loads(shown.stdout)["queues"]}
    assert queues["reports"]["ready"] == 0 and "email" in queues
