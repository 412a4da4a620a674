"""The cron table as data, overridable from the environment, validated at start-up."""

from __future__ import annotations

import pytest

from broker.errors import ConfigError
from periodic.schedule import DEFAULT_TABLE, MissedRuns, load_table, row_for


def test_the_table_holds_the_seeds_schedules():
    table = {row.actor_name: row.cron for row in load_table({})}

    assert table["close_abandoned_sessions"] == "*/30 * * * *"
    assert table["health_check"] == "* * * * *"
    assert table["cleanup_expired_exams"] == "*/5 * * * *"
    assert table["generate_daily_stats"] == "0 1 * * *"
    assert table["cleanup_old_proctoring_events"] == "0 4 * * *"
    assert table["archive_old_attempts"] == "30 4 * * *"
    assert table["cleanup_old_exam_sessions"] == "15 * * * *"  # the original's hourly Redis cleanup
    assert len(table) == len(DEFAULT_TABLE) == 14


def test_a_row_is_overridden_disabled_or_moved_to_another_zone_from_the_environment():
    env = {
        "BOOKJOBS_SCHEDULE__CLOSE_ABANDONED_SESSIONS": "*/15 * * * *",
        "BOOKJOBS_SCHEDULE__HEALTH_CHECK": "off",
        "BOOKJOBS_SCHEDULE__CLEANUP_OLD_IMAGES": "0 3 * * * Europe/Moscow",
        "BOOKJOBS_SCHEDULE__NIGHTLY_REPORT": "@daily",
    }
    rows = {row.actor_name: row for row in load_table(env)}

    assert rows["close_abandoned_sessions"].cron == "*/15 * * * *"
    assert rows["close_abandoned_sessions"].missed == MissedRuns.RUN_ONCE
    assert not rows["health_check"].enabled
    assert row_for("health_check", env) is None
    assert (rows["cleanup_old_images"].cron, rows["cleanup_old_images"].timezone) == (
        "0 3 * * *",
        "Europe/Moscow",
    )
    assert rows["nightly_report"].cron == "@daily"  # an app's own periodic actor


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("*/15 * * *", "Schedule row 'close_abandoned_sessions' .*has 4 fields"),
        ("0 3 * * * Mars/Olympus", "Schedule row 'close_abandoned_sessions' .*'Mars/Olympus' is not an IANA"),
        ("61 * * * *", "Schedule row 'close_abandoned_sessions' .*out of range"),
        ("", "BOOKJOBS_SCHEDULE__CLOSE_ABANDONED_SESSIONS is empty"),
    ],
)
def test_an_invalid_expression_or_zone_stops_start_up_naming_the_row(value, message):
    with pytest.raises(ConfigError, match=message):
        load_table({"BOOKJOBS_SCHEDULE__CLOSE_ABANDONED_SESSIONS": value})
