"""The command line of a real `bookjobs worker`, shared by tests and benchmarks."""

from __future__ import annotations

import socket
import sys


def worker_command(
    *, processes: int, threads: int, modules: tuple[str, ...] = (), extra: tuple[str, ...] = ()
):
    """`python -m broker worker …` importing `modules` too."""
    command = [
        sys.executable,
        "-m",
        "broker",
        "worker",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
    ]
    for module in modules:
        command += ["--module", module]
    return [*command, *extra]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
