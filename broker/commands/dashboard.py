"""`bookjobs dashboard`: the web UI and HTTP API (the counterpart of Flower)."""

from __future__ import annotations

import threading

import click

from broker.commands.common import clear_errors, load_actors, load_settings
from broker.errors import ConfigError
from broker.settings import Settings

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080


def check_binding(settings: Settings, host: str) -> None:
    """Without DASHBOARD_TOKEN the dashboard has no login, so it may only listen on loopback."""
    from dashboard.security import is_loopback

    if settings.dashboard_token is None and not is_loopback(host):
        raise ConfigError(
            f"Refusing to serve the dashboard on {host!r} without DASHBOARD_TOKEN: anyone who can reach it "
            "could requeue, delete and purge jobs. Set DASHBOARD_TOKEN, or bind to 127.0.0.1."
        )


def check_port_free(host: str, port: int) -> None:
    """ConfigError naming the address when something already listens there (before any URL is printed)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigError(
                f"Cannot serve the dashboard on {host}:{port}: {error.strerror or error}. "
                "Choose another address with --host / --port."
            ) from None


def build_server(settings: Settings, broker, host: str, port: int, root_path: str = ""):
    """A uvicorn server for the dashboard app (not started)."""
    import uvicorn

    from dashboard.app import create_app

    config = uvicorn.Config(
        create_app(settings, broker), host=host, port=port, root_path=root_path, log_level="warning"
    )
    return uvicorn.Server(config)


def serve_in_thread(server) -> threading.Thread:
    """Run `server` on a daemon thread (inside `bookjobs up`); returns once it listens."""
    thread = threading.Thread(target=server.run, name="dashboard", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        thread.join(0.05)
    if not server.started:
        raise ConfigError("The dashboard could not start (is its port taken?).")
    return thread


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--root-path", default="", help="URL prefix behind a proxy, e.g. /jobs.")
@click.option(
    "--module", "-m", "modules", multiple=True, help="Also import this module (your own actors); repeatable."
)
@clear_errors
def dashboard(host: str, port: int, root_path: str, modules: tuple[str, ...]) -> None:
    """Serve the web dashboard, the JSON API (/api/docs) and /metrics."""
    settings = load_settings()
    if settings.is_embedded:
        raise ConfigError(
            "`bookjobs dashboard` needs a real broker, but BROKER_URL is memory://. "
            "Set BROKER_URL=amqp://... or run everything in one process with `bookjobs up`."
        )
    check_binding(settings, host)
    check_port_free(host, port)
    broker = load_actors(settings, modules)
    click.echo(f"bookjobs dashboard on http://{host}:{port}{root_path}/ (API docs at {root_path}/api/docs).")
    build_server(settings, broker, host, port, root_path).run()
