"""A sliding-window limit per client: at most N requests in any `window` seconds."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class RateLimiter:
    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, client: str) -> float:
        """0 when `client` may go ahead (the hit is counted), else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[client]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return 0.0


class LoginThrottle:
    """Failed logins per client: `free` tries, then each further try waits twice as long as the last
    (1 s, 2 s, 4 s … up to `cap`); a successful login clears the client's record."""

    def __init__(self, *, free: int = 5, base: float = 1.0, cap: float = 900.0) -> None:
        self.free, self.base, self.cap = free, base, cap
        self._failures: dict[str, tuple[int, float]] = {}  # client → (failures, may try again at)
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds until `client` may try again; 0 when it may now."""
        with self._lock:
            _, allowed_at = self._failures.get(client, (0, 0.0))
        return max(allowed_at - time.monotonic(), 0.0)

    def failed(self, client: str) -> None:
        with self._lock:
            failures = self._failures.get(client, (0, 0.0))[0] + 1
            pause = 0.0 if failures < self.free else min(self.base * 2 ** (failures - self.free), self.cap)
            self._failures[client] = (failures, time.monotonic() + pause)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
