"""Live exam sessions on the real stores: Redis (SCAN for stale keys) and PostgreSQL (one DELETE)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from domain import db
from domain.exam_sessions import KEY_PREFIX, RedisSessions, SqlSessions, key_of
from domain.models.base import utcnow
from tests.conftest import require

REDIS_URL = os.environ.get("BOOKJOBS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_store():
    require("Redis", REDIS_URL, 6379)
    store = RedisSessions(REDIS_URL)
    keys = lambda: list(store.client.scan_iter(match=f"{KEY_PREFIX}*"))  # noqa: E731
    if keys():
        store.client.delete(*keys())
    yield store
    if keys():
        store.client.delete(*keys())


def test_redis_keeps_a_session_under_the_originals_key_with_a_ttl_past_its_end(redis_store):
    redis_store.open(41, ends_at=utcnow() + timedelta(minutes=30), payload={"user_id": 5})

    ttl = redis_store.client.ttl(key_of(41))
    assert key_of(41) == "exam:attempt:41"
    assert 39 * 60 < ttl <= 40 * 60  # 30 minutes to the end, 10 past it
    assert redis_store.get(41)["user_id"] == 5
    assert redis_store.close(41) is True and redis_store.get(41) is None and redis_store.close(41) is False


def test_redis_cleanup_scans_and_removes_stale_and_unreadable_sessions_only(redis_store):
    client = redis_store.client
    redis_store.open(1, ends_at=utcnow() + timedelta(minutes=20), payload={})
    for attempt_id in range(100, 1300):  # more than one SCAN batch; written without TTL, as old code did
        ended = (utcnow() - timedelta(hours=2)).isoformat()
        client.set(key_of(attempt_id), f'{{"attempt_id": {attempt_id}, "ends_at": "{ended}"}}')
    client.set(key_of(99), "not json")
    client.set("other:key", "left alone")

    removed = redis_store.remove_stale()

    assert removed == 1201
    assert [key.decode() for key in client.scan_iter(match=f"{KEY_PREFIX}*")] == ["exam:attempt:1"]
    assert client.get("other:key") == b"left alone"
    client.delete("other:key")


def test_postgresql_keeps_sessions_in_a_table_and_removes_stale_ones_in_one_delete(postgres_url):
    store = SqlSessions(db.session_scope)
    store.open(7, ends_at=utcnow() + timedelta(minutes=5), payload={"user_id": 3})
    store.open(7, ends_at=utcnow() + timedelta(minutes=6), payload={"user_id": 3, "seat": 12})  # reopened
    store.open(8, ends_at=utcnow() - timedelta(minutes=11), payload={})

    assert store.get(7)["seat"] == 12
    assert store.remove_stale() == 1 and store.get(8) is None
    assert store.close(7) is True and store.get(7) is None
