"""Time dashboard requests in-process against one database: fed to `python -` from a tree's root,
so that the code it imports is that tree's (this one, or a baseline revision's worktree).

    python - < benchmarks/page_timer.py '{"database_url": URL, "repeat": 15,
                                      "requests": [[label, path, headers], ...]}'

Prints {label: [milliseconds, ...] or null when the tree does not serve that path}.
"""

from __future__ import annotations

import json
import sys
import time


def time_requests(database_url: str, requests: list, repeat: int) -> dict[str, list[float] | None]:
    from fastapi.testclient import TestClient

    from broker.commands.common import load_actors
    from broker.settings import Settings
    from dashboard.app import create_app
    from domain import db

    settings = Settings(database_url=database_url)
    db.configure(database_url)
    client = TestClient(create_app(settings, load_actors(settings)), base_url="http://127.0.0.1")
    results: dict[str, list[float] | None] = {}
    for label, path, headers in requests:
        if client.get(path, headers=headers).status_code != 200:  # also warms plans, caches, rollups
            results[label] = None
            continue
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            client.get(path, headers=headers)
            samples.append((time.perf_counter() - start) * 1000)
        results[label] = samples
    return results


if __name__ == "__main__":
    job = json.loads(sys.argv[1])
    print(json.dumps(time_requests(job["database_url"], job["requests"], job["repeat"])))
