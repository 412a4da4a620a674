"""A throw-away three-node RabbitMQ cluster on loopback, beside (never touching) the node on 5672.

Each node has its own name, AMQP and distribution ports, config file, data and log folders (owned
by the `rabbitmq` user, as `rabbitmq-server` runs as that user) and no plugins; nodes 2 and 3 join
node 1. `rabbitmqctl -n NODE` drives each one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

#: Memory and disk limits small enough for a test machine, large enough for 10,000 small messages.
NODE_CONFIG = """listeners.tcp.local = 127.0.0.1:{port}
vm_memory_high_watermark.absolute = 512MiB
disk_free_limit.absolute = 50MB
log.console = false
log.file.level = warning
"""


def rabbitmqctl(node: str, *args: str, timeout: float = 120, check: bool = True) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", "-n", node, *args], capture_output=True, text=True, timeout=timeout
    )
    if check and done.returncode:
        raise RuntimeError(f"rabbitmqctl -n {node} {' '.join(args)}: {done.stderr.strip() or done.stdout}")
    return done.stdout


@dataclass
class Node:
    name: str
    port: int
    dist_port: int
    folder: Path
    pid: int | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq.conf"),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.folder / "node.pid"),
        }

    def start(self) -> None:
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env(), check=True, capture_output=True)

    def await_startup(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if subprocess.run(
                ["rabbitmqctl", "-q", "-n", self.name, "await_startup", "--timeout", "10"],
                capture_output=True,
                timeout=30,
            ).returncode == 0:
                self.pid = int(rabbitmqctl(self.name, "eval", "list_to_integer(os:getpid()).").strip())
                return
            time.sleep(1)
        raise RuntimeError(f"RabbitMQ node {self.name} did not start within {timeout} s")

    def stop_app(self) -> None:
        """Stop RabbitMQ on this node (the Erlang VM stays): a clean node loss."""
        rabbitmqctl(self.name, "stop_app")

    def start_app(self) -> None:
        rabbitmqctl(self.name, "start_app")

    def kill(self) -> None:
        """SIGKILL the node's VM: a crash."""
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            self.pid = None

    def stop(self) -> None:
        rabbitmqctl(self.name, "stop", check=False, timeout=60)


@dataclass
class Cluster:
    nodes: list[Node] = field(default_factory=list)

    @property
    def broker_url(self) -> str:
        """Every node's URL, comma-separated: the client tries them in turn."""
        return ",".join(node.url for node in self.nodes)

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def leader_of(self, queue: str, vhost: str = "/") -> Node:
        """The node that leads `queue` (a quorum queue) now, asked of any running node."""
        for node in self.nodes:
            if node.pid is None:
                continue
            listed = rabbitmqctl(
                node.name, "list_queues", "-p", vhost, "name", "leader", "--no-table-headers", check=False
            )
            for line in listed.splitlines():
                name, _, leader = line.partition("\t")
                if name == queue and leader.strip():
                    return self.node(leader.strip())
        raise RuntimeError(f"No node knows the leader of {queue!r}")


def start_cluster(size: int = 3, first_port: int = 5681) -> Cluster:
    """Start `size` nodes in parallel and cluster them; stop_cluster() undoes it all."""
    root = Path(tempfile.mkdtemp(prefix="bookjobs-cluster-"))
    tag = uuid.uuid4().hex[:6]
    cluster = Cluster()
    for index in range(size):
        folder = root / f"node{index + 1}"
        (folder / "mnesia").mkdir(parents=True)
        (folder / "log").mkdir()
        (folder / "rabbitmq.conf").write_text(NODE_CONFIG.format(port=first_port + index))
        (folder / "enabled_plugins").write_text("[].\n")
        port = first_port + index
        cluster.nodes.append(Node(f"bj{tag}{index + 1}@localhost", port, port + 20000, folder))
    shutil.chown(root, "rabbitmq", "rabbitmq")
    for path in root.rglob("*"):
        shutil.chown(path, "rabbitmq", "rabbitmq")
    try:
        for node in cluster.nodes:
            node.start()
        for node in cluster.nodes:
            node.await_startup()
        first = cluster.nodes[0].name
        for node in cluster.nodes[1:]:
            rabbitmqctl(node.name, "stop_app")
            rabbitmqctl(node.name, "join_cluster", first)
            rabbitmqctl(node.name, "start_app")
    except BaseException:
        stop_cluster(cluster)
        raise
    return cluster


def stop_cluster(cluster: Cluster) -> None:
    for node in cluster.nodes:
        node.stop()
        if node.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(node.pid, signal.SIGKILL)
    if cluster.nodes:
        shutil.rmtree(cluster.nodes[0].folder.parent, ignore_errors=True)
