"""The command line's error paths: one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from broker.cli import main


@pytest.fixture
def run(monkeypatch, tmp_path):
    monkeypatch.delenv("BROKER_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")

    def invoke(*args: str, env: dict[str, str] | None = None):
        return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)

    return invoke


def test_a_bad_setting_is_named_and_exits_2(run):
    result = run("status", env={"BROKER_URL": "kafka://x"})

    assert result.exit_code == 2
    assert "BROKER_URL='kafka://x' is not a valid URL" in result.output
    assert "Traceback" not in result.output


def test_worker_refuses_the_in_memory_broker_and_points_at_up(run):
    result = run("worker")

    assert result.exit_code == 2
    assert "bookjobs up" in result.output


def test_send_refuses_the_in_memory_broker(run):
    result = run("send", "health_check")

    assert result.exit_code == 2
    assert "memory://" in result.output


def test_send_names_an_unknown_actor_and_lists_the_known_ones(run):
    result = run("send", "no_such_actor", env={"BROKER_URL": "amqp://guest:guest@127.0.0.1:1/"})

    assert result.exit_code == 1
    assert "Unknown actor 'no_such_actor'; known actors:" in result.output
    assert "health_check" in result.output


def test_send_explains_arguments_that_do_not_fit_the_actor(run):
    result = run(
        "send", "health_check", "--args", "[1]", env={"BROKER_URL": "amqp://guest:guest@127.0.0.1:1/"}
    )

    assert result.exit_code == 1
    assert "Arguments do not fit health_check()" in result.output


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--args", "[1", "Error: --args '[1' is not valid JSON (Expecting ',' delimiter at position 2)."),
        ("--args", '{"a": 1}', "Error: --args must be a JSON list, got object."),
        ("--kwargs", "[1]", "Error: --kwargs must be a JSON object, got list."),
    ],
)
def test_send_rejects_bad_json_in_one_error_line(run, option, value, message):
    result = run("send", "health_check", option, value, env={"BROKER_URL": "amqp://guest:guest@127.0.0.1:1/"})

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [message]


def test_an_unreachable_broker_is_one_clear_line(run):
    result = run("send", "health_check", env={"BROKER_URL": "amqp://guest:guest@127.0.0.1:1/"})

    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot reach the broker")
    assert len(result.output.strip().splitlines()) == 1


def test_db_upgrade_creates_the_ledger_tables(run, tmp_path):
    result = run("db", "upgrade")
    again = run("db", "upgrade")

    assert result.exit_code == 0, result.output
    assert "upgraded from revision (none: a new database) to 00" in result.output
    assert "is up to date (revision 00" in again.output
    import sqlite3

    tables = {r[0] for r in sqlite3.connect(tmp_path / "cli.db").execute("select name from sqlite_master")}
    assert {"bookjobs_jobs", "bookjobs_workers", "alembic_version"} <= tables


def test_status_without_a_database_file_says_what_to_run_and_creates_none(run, tmp_path):
    result = run("status")

    assert result.exit_code == 2
    assert "does not exist here: run `bookjobs db upgrade` first" in result.output
    assert not (tmp_path / "cli.db").exists()


def test_status_on_an_unmigrated_database_says_what_to_run(run, tmp_path):
    (tmp_path / "cli.db").touch()
    result = run("status")

    assert result.exit_code == 1
    assert "bookjobs db upgrade" in result.output
