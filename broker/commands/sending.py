"""`bookjobs send`: enqueue any actor by name, the counterpart of `celery call`."""

from __future__ import annotations

import json
import time

import click
from dramatiq.results import ResultFailure, ResultTimeout

from broker import sending
from broker.commands.common import clear_errors, flush_ledger, load_actors, load_settings, parse_json
from broker.errors import ConfigError


@click.command()
@click.argument("actor_name", metavar="ACTOR")
@click.option(
    "--args",
    "args",
    callback=parse_json(list, "--args"),
    help="Positional arguments, a JSON list: '[1, \"a\"]'.",
)
@click.option(
    "--kwargs", "kwargs", callback=parse_json(dict, "--kwargs"), help="Keyword arguments, a JSON object."
)
@click.option(
    "--delay", type=click.IntRange(min=0), help="Run no earlier than this many milliseconds from now."
)
@click.option(
    "--priority", type=click.IntRange(0, 10), help="Broker priority, 0 (default) to 10 (most urgent)."
)
@click.option(
    "--from-file",
    type=click.File("r", encoding="utf-8"),
    help='Send one job per line of this file (a JSON list of arguments, or {"args", "kwargs"}); '
    "confirmed in batches. '-' reads standard input.",
)
@click.option(
    "--module", "-m", "modules", multiple=True, help="Also import this module (your own actors); repeatable."
)
@click.option("--wait", is_flag=True, help="Wait for the job to finish and print its result.")
@click.option(
    "--timeout", type=click.FloatRange(min=0), default=60.0, show_default=True, help="Seconds --wait waits."
)
@clear_errors
def send(
    actor_name: str,
    args: list,
    kwargs: dict,
    delay: int | None,
    priority: int | None,
    from_file,
    modules: tuple[str, ...],
    wait: bool,
    timeout: float,
) -> None:
    """Enqueue one job of ACTOR and print its message id (or many, with --from-file)."""
    settings = load_settings()
    if settings.is_embedded:
        raise ConfigError(
            "BROKER_URL is memory:// (the embedded broker of `bookjobs up`), which other processes "
            "cannot reach; set BROKER_URL=amqp://... to send from here."
        )
    broker = load_actors(settings, modules)
    if from_file is not None:
        _send_file(broker, actor_name, from_file, delay, priority)
        flush_ledger(broker, settings)
        return
    message = sending.send_by_name(broker, actor_name, args, kwargs, delay_ms=delay, priority=priority)
    click.echo(message.message_id)
    flush_ledger(broker, settings)
    if not wait:
        return
    try:
        result = message.get_result(block=True, timeout=int(timeout * 1000))
    except ResultTimeout:
        raise click.ClickException(f"Job {message.message_id} did not finish within {timeout:g} s.") from None
    except ResultFailure as failure:
        raise click.ClickException(f"Job {message.message_id} failed: {failure}") from None
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


def _send_file(broker, actor_name: str, lines, delay: int | None, priority: int | None) -> None:
    from broker.send_many import send_many

    items = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise click.BadParameter(
                    f"line {number} is not JSON ({error.msg}).", param_hint="--from-file"
                ) from None
    started = time.perf_counter()
    messages = send_many(sending.find_actor(broker, actor_name), items, delay_ms=delay, priority=priority)
    seconds = time.perf_counter() - started
    rate = len(messages) / max(seconds, 1e-9)
    click.echo(f"{len(messages)} messages confirmed in {seconds:.2f} s ({rate:,.0f}/s).")
    if messages:
        click.echo(f"first {messages[0].message_id}, last {messages[-1].message_id}")
