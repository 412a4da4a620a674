"""Deferred acks are settled in batches: which frames a batch becomes, and how deep each queue prefetches."""

from __future__ import annotations

import pytest

from broker.rabbitmq import plan_settlement, queue_prefetch


def test_a_batch_with_nothing_open_below_it_is_one_multiple_ack():
    open_tags = {1, 2, 3, 4}

    plan = plan_settlement(open_tags, [(3, True), (1, True), (2, True), (4, True)])

    assert (plan.ack_up_to, plan.acks, plan.nacks) == (4, [], [])
    assert open_tags == set()


def test_acks_above_a_delivery_still_running_go_one_by_one_so_it_is_not_acked_with_them():
    open_tags = {1, 2, 3, 4, 5, 6}

    plan = plan_settlement(open_tags, [(1, True), (2, True), (5, True), (6, True)])

    assert plan.ack_up_to == 2
    assert plan.acks == [5, 6]
    assert open_tags == {3, 4}


def test_nacks_are_never_folded_into_a_multiple_ack():
    open_tags = {1, 2, 3}

    plan = plan_settlement(open_tags, [(1, True), (2, False), (3, True)])

    assert plan.nacks == [2]
    assert plan.ack_up_to == 3 and plan.acks == []


def test_a_single_ack_is_a_plain_ack_and_tags_of_an_earlier_connection_are_left_alone():
    open_tags = {7, 9}

    plan = plan_settlement(open_tags, [(7, True), (3, True)])

    assert (plan.ack_up_to, plan.acks, plan.unknown) == (None, [7], [3])
    assert open_tags == {9}


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        ("books", 16),  # long jobs keep dramatiq's 2 per thread
        ("images", 16),
        ("email", 200),  # short jobs: 25 per thread
        ("some-app-queue", 200),  # the default queue's policy
        ("email.DQ", 8_000),  # delay queues keep dramatiq's own window
    ],
)
def test_each_queue_prefetches_by_its_policy(queue, expected):
    dramatiq_prefetch = 8_000 if queue.endswith(".DQ") else 16  # what dramatiq asks for with 8 threads

    assert queue_prefetch(queue, dramatiq_prefetch) == expected
