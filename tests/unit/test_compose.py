"""docker-compose.yml cannot be run here (no Docker engine), so it is checked by reading it."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
import yaml

from broker.cli import main
from broker.commands.dashboard import check_binding
from broker.errors import ConfigError
from broker.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
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
    host = dashboard["command"][dashboard["command"].index("--host") + 1]

    assert host == "0.0.0.0"
    assert dashboard["environment"]["DASHBOARD_TOKEN"] == "${DASHBOARD_TOKEN:-}"
    assert dashboard["ports"] == ["127.0.0.1:8080:8080"]
    with pytest.raises(ConfigError, match="without DASHBOARD_TOKEN"):  # what an unset token does
        check_binding(Settings(dashboard_token=None), host)


def test_no_required_variable_can_stop_the_whole_file_from_loading():
    # `${VAR:?}` fails every `docker compose` command, even `up worker`, when VAR is unset.
    assert ":?" not in COMPOSE_TEXT


def test_send_on_commit_rows_are_published_by_a_relay_service():
    relay = SERVICES["relay"]
    assert relay["command"] == ["bookjobs", "relay"]
    assert relay["image"].startswith("bookjobs")


def test_rabbitmq_keeps_its_messages_when_the_container_is_recreated():
    rabbitmq = SERVICES["rabbitmq"]
    assert rabbitmq["hostname"] == "rabbitmq"  # its data folder is named after the node, so the host
    assert "rabbitmq:/var/lib/rabbitmq" in rabbitmq["volumes"]
    assert "rabbitmq" in COMPOSE["volumes"]


def test_only_loopback_ports_are_published_and_each_is_used():
    published = {name: spec.get("ports", []) for name, spec in SERVICES.items()}
    for name, ports in published.items():
        for port in ports:
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    assert published["rabbitmq"] == ["127.0.0.1:5672:5672"]  # apps on the host enqueue
    assert published["postgres"] == ["127.0.0.1:5432:5432"]  # and use the same database
    assert "15672" not in COMPOSE_TEXT  # no management UI nothing uses


def test_the_scheduler_health_check_asks_whether_the_scheduler_is_alive():
    assert SERVICES["scheduler"]["healthcheck"]["test"] == ["CMD", "bookjobs", "health", "--scheduler"]


def test_the_build_context_leaves_out_virtualenvs_and_node_modules():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "tests/epubjs/node_modules", "node_modules"} <= set(ignored)


def test_the_image_alone_runs_workers_not_a_dashboard_on_its_own_loopback():
    assert 'CMD ["bookjobs", "worker"]' in (ROOT / "Dockerfile").read_text()


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
