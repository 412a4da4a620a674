"""Local-provider images per second: a plain loop beside the actor path with 1 and 2 worker processes.

python -m benchmarks.images [--images 300]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from sqlalchemy import func, select

from actors import images as image_actors
from benchmarks import services
from broker import runtime
from broker.settings import Settings
from domain import db
from domain.images.providers import LocalProvider
from domain.models.images import GeneratedImage
from tests.support.books import add_described_book

TEXT = "Старый дом стоял на высоком холме над тёмной рекой, и золотой закат горел в его окнах."
PER_JOB = 10


def plain_loop(count: int) -> float:
    provider = LocalProvider()
    start = time.perf_counter()
    for i in range(count):
        provider.generate("p", text=f"{TEXT} {i}", width=512, height=512)
    return count / (time.perf_counter() - start)


def actor_path(count: int, processes: int) -> float:
    with tempfile.TemporaryDirectory() as media, services.vhost() as url, services.schema() as database_url:
        broker = runtime.configure(Settings(broker_url=url, database_url=database_url))
        runtime.rebind_actors(broker, [image_actors.generate_images])
        ids = _descriptions(count)
        for start in range(0, count, PER_JOB):
            image_actors.generate_images.send(ids[start : start + PER_JOB], 1)
        env = {"MEDIA_ROOT": media, "IMAGE_DAILY_LIMIT": str(count * 2)}
        with services.workers(url, database_url, processes=processes, threads=2, modules=(), extra_env=env):
            services.wait_until(lambda: _completed() >= count, timeout=600, interval=0.2, what="images")
        with db.session_scope() as session:
            first, last = session.execute(
                select(func.min(GeneratedImage.created_at), func.max(GeneratedImage.created_at))
            ).one()
        broker.close()
    return count / max((last - first).total_seconds(), 1e-9)


def _descriptions(count: int) -> list[int]:
    return add_described_book([f"{TEXT} {i}" for i in range(count)])[1]


def _completed() -> int:
    with db.session_scope() as session:
        return session.scalar(select(func.count()).where(GeneratedImage.status == "completed"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=300)
    options = parser.parse_args()
    loop = plain_loop(options.images)
    one, two = actor_path(options.images, 1), actor_path(options.images, 2)
    print(f"\n{options.images} local 512×512 illustration cards\n")
    print(f"  provider in a plain loop            {loop:>7.1f} images/s ({1000 / loop:.1f} ms an image)")
    print(f"  generate_images, 1 worker process   {one:>7.1f} images/s")
    print(f"  generate_images, 2 worker processes {two:>7.1f} images/s")
    print(f"\n  actor path / plain loop (1 process) = {one / loop:.2f};  2 / 1 processes = {two / one:.2f}")


if __name__ == "__main__":
    main()
