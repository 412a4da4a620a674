"""A loopback TCP proxy a test controls: pass, delay, drop replies, cut connections, refuse new ones."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit


class FaultProxy:
    """Forwards 127.0.0.1:<port> to `target`; `cut()`, `refuse()`, `delay()`, `drop_replies()` break
    it and `restore()` mends it."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self._refusing = False
        self._delay = 0.0
        self._dropping_replies = False
        self._closed = False
        self.connections_made = 0
        threading.Thread(target=self._accept, name="fault-proxy", daemon=True).start()

    def cut(self) -> int:
        """Close every open connection at once (both sides see a reset); returns how many."""
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            for sock in pair:
                _close(sock)
        return len(pairs)

    def refuse(self) -> None:
        """Cut everything and close each new connection as soon as it is accepted."""
        self._refusing = True
        self.cut()

    def delay(self, seconds: float) -> None:
        """Hold every chunk of data this long before forwarding it."""
        self._delay = seconds

    def drop_replies(self) -> None:
        """Forward what clients send but throw away what the server answers (a confirm, say)."""
        self._dropping_replies = True

    def restore(self) -> None:
        self._refusing, self._delay, self._dropping_replies = False, 0.0, False

    def close(self) -> None:
        self._closed = True
        _close(self._listener)
        self.cut()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            pair = (client, upstream)
            with self._lock:
                self._pairs.add(pair)
                self.connections_made += 1
            threading.Thread(target=self._pump, args=(pair,), daemon=True).start()

    def _pump(self, pair: tuple[socket.socket, socket.socket]) -> None:
        client, upstream = pair
        peers = {client: upstream, upstream: client}
        try:
            while True:
                readable, _, _ = select.select(list(peers), [], [], 1.0)
                with self._lock:
                    if pair not in self._pairs:
                        return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if self._delay:
                        time.sleep(self._delay)
                    if sock is upstream and self._dropping_replies:
                        continue
                    peers[sock].sendall(data)
        except OSError:
            return
        finally:
            with self._lock:
                self._pairs.discard(pair)
            _close(client)
            _close(upstream)


def through(url: str, proxy: FaultProxy) -> str:
    """`url` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{proxy.port}"))


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
