"""How the ledger and the heartbeats name this worker process: host:pid."""

from __future__ import annotations

import os
import socket
from functools import lru_cache

HOSTNAME = socket.gethostname()


def worker_id() -> str:
    """This process as the ledger and heartbeats name it: host:pid."""
    return worker_id_of(os.getpid())


@lru_cache(maxsize=8)
def worker_id_of(pid: int) -> str:
    return f"{HOSTNAME}:{pid}"
