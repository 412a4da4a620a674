"""The worker supervisor's bookkeeping, without services: exits in words, crash-loop pauses, reaping."""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque

from broker.supervisor import CRASH_LOOP_RESTARTS, MAX_RESTART_PAUSE, Child, describe_exit, restart_pause


def test_exits_are_described_the_way_an_operator_reads_them():
    assert describe_exit(-signal.SIGKILL) == "died: killed by SIGKILL"
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(0) == "exited"


def test_an_occasional_death_restarts_at_once_and_a_crash_loop_waits_longer_each_time():
    now = 1000.0
    assert restart_pause(deque([now - 120, now - 90, now]), now) == 0.0  # old deaths do not count
    loop = deque([now - n for n in range(CRASH_LOOP_RESTARTS)])
    assert restart_pause(loop, now) == 2.0
    loop.extend([now] * 10)
    assert restart_pause(loop, now) == MAX_RESTART_PAUSE


def test_a_reaped_child_gives_its_exit_code_and_keeps_no_process_object():
    process = multiprocessing.get_context("fork").Process(target=lambda: None)
    process.start()
    process.join(10)
    child = Child(0, process)

    assert child.reap() == 0
    assert child.process is None and child.pid is None and not child.alive()
