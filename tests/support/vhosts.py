"""RabbitMQ vhosts for tests, made and removed in batches.

Every `rabbitmqctl` run starts an Erlang VM (about a second here), and a vhost per test took three:
add, set permissions, delete. The pool makes `BATCH` vhosts with one `rabbitmqctl eval` and removes
used ones with another, so a test waits for neither. Where `eval` is refused (another RabbitMQ's
internal API), it falls back to one vhost at a time.
"""

from __future__ import annotations

import subprocess
import uuid

BATCH = 16
ACTING_USER = "bookjobs-tests"


def rabbitmqctl(*args: str) -> str:
    return subprocess.run(
        ["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=120
    ).stdout


def _binaries(names: list[str]) -> str:
    return "[" + ", ".join(f'<<"{name}">>' for name in names) + "]"


class VhostPool:
    """Fresh vhosts on demand, each with full permissions for `user`."""

    def __init__(self, user: str) -> None:
        self.user = user
        self.ready: list[str] = []
        self.used: list[str] = []
        self.batched = True

    def take(self) -> str:
        if not self.ready:
            self._make()
        return self.ready.pop()

    def give_back(self, name: str) -> None:
        self.used.append(name)
        if len(self.used) >= BATCH:
            self._delete(self.used)
            self.used = []

    def close(self) -> None:
        self._delete(self.used + self.ready)
        self.used, self.ready = [], []

    def _make(self) -> None:
        names = [f"bookjobs-test-{uuid.uuid4().hex[:12]}" for _ in range(BATCH if self.batched else 1)]
        if self.batched:
            try:
                rabbitmqctl(
                    "eval",
                    f"[begin ok = rabbit_vhost:add(V, <<\"{ACTING_USER}\">>), "
                    f"ok = rabbit_auth_backend_internal:set_permissions(<<\"{self.user}\">>, V, "
                    f"<<\".*\">>, <<\".*\">>, <<\".*\">>, <<\"{ACTING_USER}\">>) end "
                    f"|| V <- {_binaries(names)}], ok.",
                )
                self.ready.extend(names)
                return
            except subprocess.CalledProcessError:
                self.batched = False
                names = names[:1]
        for name in names:
            rabbitmqctl("add_vhost", name)
            rabbitmqctl("set_permissions", "-p", name, self.user, ".*", ".*", ".*")
            self.ready.append(name)

    def _delete(self, names: list[str]) -> None:
        if not names:
            return
        if self.batched:
            deleting = f"[rabbit_vhost:delete(V, <<\"{ACTING_USER}\">>) || V <- {_binaries(names)}], ok."
            rabbitmqctl("eval", deleting)
            return
        for name in names:
            rabbitmqctl("delete_vhost", name)
