"""`bookjobs health --scheduler`: a container's scheduler counts as alive only while it runs rounds."""

from __future__ import annotations

import os
import threading
import time

import click
import pytest

from broker.commands.health import SCHEDULER_SILENT_AFTER, check_scheduler_heartbeat
from periodic.scheduler import Scheduler


def test_a_running_scheduler_touches_its_heartbeat_each_round(tmp_path):
    beat = tmp_path / "scheduler.heartbeat"
    scheduler = Scheduler([], enqueue=lambda *_: None, queue_of=lambda _: "default", scheduler_id="t")
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), kwargs={"on_round": beat.touch})
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not beat.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(5)
    check_scheduler_heartbeat(beat)  # fresh: no error


def test_a_missing_or_old_heartbeat_is_unhealthy(tmp_path):
    beat = tmp_path / "scheduler.heartbeat"
    with pytest.raises(click.ClickException, match="No scheduler runs here"):
        check_scheduler_heartbeat(beat)
    beat.touch()
    old = time.time() - SCHEDULER_SILENT_AFTER - 5
    os.utime(beat, (old, old))
    with pytest.raises(click.ClickException, match=r"last round was 9\d s ago"):
        check_scheduler_heartbeat(beat)
