"""Which failures retry, how often, and after how long."""

from __future__ import annotations

import smtplib
import statistics

import dramatiq
import pytest
from dramatiq.common import compute_backoff
from dramatiq.middleware.time_limit import TimeLimitExceeded
from sqlalchemy.exc import OperationalError

from broker.errors import is_transient
from broker.policy import QUEUE_POLICIES, RetryWhen, policy_for
from domain.errors import InvalidArgument, NotFound, PermanentError, TransientError


@pytest.mark.parametrize(
    "exception",
    [
        TransientError("busy"),
        ConnectionResetError(),
        TimeoutError(),
        OperationalError("SELECT 1", {}, Exception("server closed the connection")),
        smtplib.SMTPResponseException(451, b"try later"),
        smtplib.SMTPServerDisconnected(),
        dramatiq.Retry(),
    ],
)
def test_transient_failures_retry(exception):
    assert is_transient(exception)


@pytest.mark.parametrize(
    "exception",
    [
        PermanentError("no"),
        NotFound("Book 7 not found."),
        InvalidArgument("bad"),
        smtplib.SMTPResponseException(550, b"no such user"),
        KeyError("bug"),
        ValueError("bug"),
        TimeLimitExceeded(),
    ],
)
def test_permanent_failures_and_bugs_do_not_retry(exception):
    assert not is_transient(exception)


def test_retry_when_stops_after_max_retries():
    retry_when = RetryWhen(max_retries=3)

    assert [retry_when(n, TransientError()) for n in range(5)] == [True, True, True, False, False]
    assert not retry_when(0, PermanentError())


def test_cleanup_backoff_averages_the_seeds_five_ten_twenty_minutes():
    policy = QUEUE_POLICIES["cleanup"]
    for retries, expected_minutes in enumerate((5, 10, 20)):
        delays = [
            compute_backoff(retries, factor=policy.min_backoff_ms, max_backoff=10**10)[1] for _ in range(4000)
        ]
        assert statistics.mean(delays) / 60_000 == pytest.approx(expected_minutes, rel=0.03)


def test_every_queue_of_the_design_has_its_policy_and_others_get_the_default():
    assert set(QUEUE_POLICIES) == {"email", "books", "images", "cleanup", "exams", "default"}
    assert QUEUE_POLICIES["images"].max_retries == 2
    assert QUEUE_POLICIES["books"].time_limit_ms == 30 * 60_000
    assert policy_for("some-app-queue") == QUEUE_POLICIES["default"]


def test_actors_get_their_queue_defaults_unless_they_set_their_own(stub_broker):
    @dramatiq.actor(queue_name="cleanup", broker=stub_broker)
    def sweep() -> None: ...

    @dramatiq.actor(queue_name="images", max_retries=7, time_limit=1_000, broker=stub_broker)
    def paint() -> None: ...

    assert sweep.options["max_retries"] == 3
    assert sweep.options["min_backoff"] == 200_000
    assert sweep.options["time_limit"] == 5 * 60_000
    assert paint.options["max_retries"] == 7
    assert paint.options["retry_when"] == RetryWhen(max_retries=7)
    assert paint.options["time_limit"] == 1_000
