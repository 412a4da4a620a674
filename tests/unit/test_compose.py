"""docker-compose.yml cannot be run here (no Docker engine), so it is checked by reading it."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
import yaml

from broker.cli import main

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
BOOKJOBS_SERVICES = [name for name, spec in SERVICES.items() if spec.get("image", "").startswith("bookjobs")]


def resolve(command: list[str]) -> click.Command:
    """The click command that `command` runs, or AssertionError naming the missing piece."""
    assert command[0] == "bookjobs", f"{command} does not run bookjobs"
    current: click.Command = main
    for word in command[1:]:
        if word.startswith("-") or not isinstance(current, click.Group):
            break
        assert word in current.commands, f"`{' '.join(command)}`: {word!r} is not a bookjobs sub-command"
        current = current.commands[word]
    return current


def test_the_infrastructure_and_the_bookjobs_processes_are_all_there():
    assert {"rabbitmq", "postgres", "worker", "scheduler", "dashboard"} <= set(SERVICES)
    assert {"worker", "scheduler", "migrate", "dashboard"} <= set(BOOKJOBS_SERVICES)


def test_the_dashboard_listens_beyond_loopback_only_with_a_token():
    dashboard = SERVICES["dashboard"]

    assert dashboard["command"][dashboard["command"].index("--host") + 1] == "0.0.0.0"
    assert dashboard["environment"]["DASHBOARD_TOKEN"].startswith("${DASHBOARD_TOKEN:?")
    assert dashboard["ports"] == ["127.0.0.1:8080:8080"]


@pytest.mark.parametrize("name", BOOKJOBS_SERVICES)
def test_every_bookjobs_service_runs_a_real_sub_command_with_real_options(name):
    service = SERVICES[name]
    command = resolve(service["command"])
    options = {opt for param in command.params for opt in param.opts}
    for word in service["command"]:
        if word.startswith("--"):
            assert word in options, f"{name}: {word} is not an option of {command.name}"
    if "healthcheck" in service:
        resolve(service["healthcheck"]["test"][1:])


@pytest.mark.parametrize("name", BOOKJOBS_SERVICES)
def test_bookjobs_services_are_configured_only_by_environment_and_wait_for_healthy_services(name):
    service = SERVICES[name]
    env = service["environment"]
    assert env["BROKER_URL"].startswith("amqp://") and "@rabbitmq:" in env["BROKER_URL"]
    assert env["DATABASE_URL"].startswith("postgresql+psycopg2://") and "@postgres:" in env["DATABASE_URL"]
    conditions = {dep: spec["condition"] for dep, spec in service["depends_on"].items()}
    assert conditions.get("postgres") == "service_healthy"
    if name != "migrate":
        assert conditions.get("rabbitmq") == "service_healthy"
        assert conditions.get("migrate") == "service_completed_successfully"


def test_every_long_running_service_has_a_health_check():
    for name, service in SERVICES.items():
        if name != "migrate":
            assert "healthcheck" in service, f"{name} has no healthcheck"
