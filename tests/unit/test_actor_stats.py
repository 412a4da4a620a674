"""Per-actor figures on SQLite (the embedded default sums rows in Python; PostgreSQL in SQL)."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import timedelta

from domain import actor_stats, db, migrate
from domain.ledger_tallies import Tally, bucket_middle, bucket_of
from tests.support.ledger import insert_finished_jobs


def figures(window: str, actor: str | None = None) -> dict:
    with db.session_scope() as session:
        reports = actor_stats.report(session, window=window, actor=actor)
        return {r.actor: r.as_dict(detail=True) for r in reports}


def test_counts_and_exact_percentiles_over_the_last_hour(sqlite_url):
    migrate.upgrade(db.configure(sqlite_url))
    durations = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 1000.0]
    outcomes = [("done", d, 0) for d in durations[:7]] + [("dead", d, 2) for d in durations[7:]]
    insert_finished_jobs("echo", outcomes, finished_ago=timedelta(minutes=5))

    echo = figures("1h")["echo"]

    counts = tuple(echo[key] for key in ("runs", "done", "dead", "retried", "failure_rate"))
    assert counts == (10, 7, 3, 6, 0.3)
    assert echo["p50_ms"] == 55.0 and echo["approximate"] is False
    assert echo["p95_ms"] == round(statistics.quantiles(durations, n=20, method="inclusive")[-1], 2)
    assert figures("1h", "echo")["echo"]["top_errors"] == [{"error_type": "PermanentError", "count": 3}]


def test_a_week_adds_rolled_up_hours_and_says_its_percentiles_are_estimates(sqlite_url):
    migrate.upgrade(db.configure(sqlite_url))
    days_ago = [("done", 100.0, 0)] * 30 + [("dead", 400.0, 1)] * 10
    insert_finished_jobs("echo", days_ago, finished_ago=timedelta(days=3))
    insert_finished_jobs("echo", [("cancelled", 50.0, 0)] * 2, finished_ago=timedelta(minutes=1))

    week, day = figures("7d")["echo"], figures("24h")["echo"]

    counts = tuple(week[key] for key in ("runs", "done", "dead", "cancelled", "retried"))
    assert counts == (42, 30, 10, 2, 10)
    assert week["approximate"] is True and week["max_ms"] == 400.0
    assert abs(week["p50_ms"] - 100) / 100 < 0.19 and abs(week["p95_ms"] - 400) / 400 < 0.19
    assert (day["runs"], day["cancelled"], day["approximate"]) == (2, 2, False)
    # 60 bars of 168 minutes; a rolled-up hour spread over two bars, each rounded to 0.001 a minute.
    rates = [bar["per_minute"] for bar in week["throughput_per_minute"]]
    assert abs(sum(rates) * 168 - 42) <= 0.0005 * 168 * sum(1 for rate in rates if rate)


def test_a_duration_falls_in_the_bucket_whose_middle_is_within_a_tenth_of_it():
    for duration in (1.5, 7.0, 55.0, 1234.0, 98_765.0):
        assert abs(bucket_middle(bucket_of(duration)) - duration) / duration < 0.1
    tally = Tally(exact=None, histogram=Counter({bucket_of(100.0): 9, bucket_of(1000.0): 1}), timed=10)
    assert tally.approximate and abs(tally.percentile(0.5) - 100) < 10
