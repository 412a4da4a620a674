"""Worker processes under a supervisor that restarts one dead child alone.

dramatiq's own main process stops every child as soon as one dies (dramatiq#882): one OOM kill
takes the whole worker down until something restarts it. Here each child is dramatiq's own
`worker_process`, and the supervisor keeps `processes` of them alive: a child that dies is logged
with the reason and replaced, while the others keep consuming. SIGINT or SIGTERM stops them all,
each child told once, so in-flight jobs finish and their acks go out.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from dramatiq.canteen import Canteen
from dramatiq.cli import RET_IMPORT, try_block_signals, try_unblock_signals, worker_process

from broker.hard_limits import CHECK_SECONDS, HardLimits
from broker.middleware.recycling import LOCK_ENV as RECYCLE_LOCK_ENV

logger = logging.getLogger("bookjobs.supervisor")

#: A child that dies this many times within RESTART_WINDOW seconds is restarted after a growing pause.
CRASH_LOOP_RESTARTS = 5
RESTART_WINDOW = 60.0
MAX_RESTART_PAUSE = 30.0
#: Exit codes after which a new child would fail the same way: the supervisor stops instead.
FATAL_EXIT_CODES = frozenset({RET_IMPORT})
#: prctl(2) option: the signal this process gets when its parent dies.
PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    """One slot of the worker: its current process and when it was (re)started."""

    slot: int
    #: None between a death and the restart (the dead one is closed at once: a supervisor that runs
    #: for months must not keep a pipe of every process it ever started).
    process: multiprocessing.Process | None
    restarts: deque[float] = field(default_factory=lambda: deque(maxlen=4 * CRASH_LOOP_RESTARTS))
    restart_at: float | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    def reap(self) -> int:
        """The exit code of the process that ended; the process object is closed and forgotten."""
        process, self.process = self.process, None
        code = process.exitcode
        process.close()
        return code


class Supervisor:
    """Keeps `processes` dramatiq worker processes running with dramatiq's parsed `args`."""

    def __init__(
        self, args: argparse.Namespace, *, processes: int, hard_limits: HardLimits | None = None
    ) -> None:
        self.args = args
        self.hard_limits = hard_limits
        self._limits_checked = 0.0
        self.processes = processes
        self.context = multiprocessing.get_context("fork")
        self.canteen = self.context.Value(Canteen)
        self.children: list[Child] = []
        self.stopping = False
        self.exit_code = 0

    def run(self) -> int:
        """Start the children and supervise them until they all stopped; the exit code."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        # Children recycling themselves take turns through this lock file (broker.middleware.recycling).
        lock = Path(tempfile.gettempdir()) / f"bookjobs-recycle-{os.getpid()}.lock"
        os.environ[RECYCLE_LOCK_ENV] = str(lock)
        try:
            # The actors are imported in each child, not here before forking: a child forked from a
            # parent that had loaded them once died with SIGSEGV under recycling.
            return self._supervise()
        finally:
            lock.unlink(missing_ok=True)

    def _supervise(self) -> int:
        self.children = [Child(slot, self._spawn(slot)) for slot in range(self.processes)]
        logger.info("Supervising %d worker processes (pids %s).", self.processes, self.pids())
        while any(child.restart_at is not None or child.alive() for child in self.children):
            for child in self.children:
                try:
                    self._watch(child)
                except Exception:  # the supervisor outlives its own bugs: its children depend on it
                    logger.exception("Supervising worker process %d failed; trying again.", child.slot)
            self._enforce_hard_limits()
            time.sleep(0.2)
        logger.info("Every worker process has stopped.")
        return self.exit_code

    def _enforce_hard_limits(self) -> None:
        """Kill (SIGKILL) a child whose job is stuck past its hard time limit (`broker.hard_limits`)."""
        now = time.monotonic()
        if self.hard_limits is None or self.stopping or now - self._limits_checked < CHECK_SECONDS:
            return
        self._limits_checked = now
        try:
            doomed = self.hard_limits.overrun(self.pids())
        except Exception:
            logger.warning("Could not check the hard time limits.", exc_info=True)
            return
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):  # it died meanwhile
                os.kill(pid, signal.SIGKILL)

    def pids(self) -> list[int]:
        return [child.pid for child in self.children if child.pid is not None]

    def _spawn(self, slot: int) -> multiprocessing.Process:
        event = self.context.Event()
        process = self.context.Process(
            target=_child_main, args=(self.args, slot, self.canteen, event), name=f"worker-{slot}"
        )
        # Blocked while forking, as dramatiq does: the child unblocks them once its handlers are set.
        try_block_signals()
        try:
            process.start()
        finally:
            try_unblock_signals()
        return process

    def _watch(self, child: Child) -> None:
        now = time.monotonic()
        if child.restart_at is not None:
            if self.stopping:
                child.restart_at = None
            elif now >= child.restart_at:
                child.restart_at = None
                child.process = self._spawn(child.slot)
                logger.warning("Worker process %d restarted as pid %d.", child.slot, child.process.pid)
            return
        if child.process is None or child.alive() or child.process.exitcode is None or self.stopping:
            return
        pid = child.pid
        code = child.reap()
        if code == 0:  # it stopped by itself: recycled (max jobs or memory per child)
            logger.info("Worker process %d (pid %d) exited; starting a fresh one.", child.slot, pid)
            child.process = self._spawn(child.slot)
            return
        logger.error("Worker process %d (pid %d) %s.", child.slot, pid, describe_exit(code))
        if code in FATAL_EXIT_CODES:
            logger.critical("A new worker process would fail the same way; stopping the worker.")
            self.exit_code = code
            self.stop()
            return
        child.restarts.append(now)
        child.restart_at = now + restart_pause(child.restarts, now)

    def _on_signal(self, signum: int, _frame) -> None:
        if self.stopping:
            logger.info("Already stopping; waiting for in-flight jobs to finish.")
            return
        logger.info("Received %s; stopping every worker process.", signal.Signals(signum).name)
        self.stop()

    def stop(self) -> None:
        """Tell each live child once to finish its jobs and exit (SIGTERM)."""
        self.stopping = True
        for child in self.children:
            if child.alive():
                child.process.terminate()


def _child_main(args: argparse.Namespace, slot: int, canteen, event) -> None:
    """One worker process: dramatiq's own, writing its output to this process's stderr."""
    _stop_with_parent()
    worker_process(args, slot, sys.stderr, canteen, event)


def _stop_with_parent() -> None:
    """Ask Linux for a SIGTERM when the supervisor dies, so no orphaned child goes on consuming."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        logger.debug("No parent-death signal on this platform.")


def describe_exit(code: int) -> str:
    """`died: killed by SIGKILL` or `exited with code 3`, for the log."""
    if code < 0:
        try:
            return f"died: killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"died: killed by signal {-code}"
    return f"exited with code {code}" if code else "exited"


def restart_pause(restarts: deque[float], now: float) -> float:
    """No pause for an occasional death; a growing one once a child keeps dying within RESTART_WINDOW."""
    recent = [at for at in restarts if now - at <= RESTART_WINDOW]
    if len(recent) < CRASH_LOOP_RESTARTS:
        return 0.0
    return min(2.0 ** (len(recent) - CRASH_LOOP_RESTARTS + 1), MAX_RESTART_PAUSE)
