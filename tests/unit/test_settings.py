"""Settings come from the environment; a bad value names its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.settings import Settings


def test_an_empty_environment_gives_the_embedded_default():
    settings = Settings.from_env({})

    assert settings.broker_url == "memory://"
    assert settings.is_embedded
    assert settings.database_url == "sqlite:///bookjobs.db"
    assert settings.media_root == Path("media")
    assert settings.ledger_enabled


def test_real_services_are_read_from_the_environment():
    settings = Settings.from_env(
        {
            "BROKER_URL": "amqp://guest:guest@rabbit:5672/",
            "DATABASE_URL": "postgresql+psycopg2://u@db/bookjobs",
            "SMTP_URL": "smtp://mail:587?starttls=true",
            "BOOKJOBS_LEDGER": "off",
        }
    )

    assert not settings.is_embedded
    assert settings.database_url == "postgresql+psycopg2://u@db/bookjobs"
    assert settings.smtp_url == "smtp://mail:587?starttls=true"
    assert not settings.ledger_enabled


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"BROKER_URL": "kafka://x"}, "BROKER_URL='kafka://x'"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL='mysql://x'"),
        ({"SMTP_URL": "http://mail"}, "SMTP_URL='http://mail'"),
        ({"IMAGE_PROVIDER": "dalle"}, "IMAGE_PROVIDER='dalle'"),
        ({"IMAGE_PROVIDER": "http"}, "IMAGE_API_URL"),
        ({"BROKER_QUEUE_TYPE": "mirrored"}, "BROKER_QUEUE_TYPE='mirrored'"),
        ({"BROKER_DELIVERY_LIMIT": "0"}, "BROKER_DELIVERY_LIMIT"),
        ({"BOOKJOBS_LEDGER": "maybe"}, "BOOKJOBS_LEDGER='maybe'"),
        ({"BOOKJOBS_HEARTBEAT_SECONDS": "-1"}, "BOOKJOBS_HEARTBEAT_SECONDS='-1'"),
        ({"BOOKJOBS_GIL_SWITCH_MS": "0"}, "BOOKJOBS_GIL_SWITCH_MS='0'"),
        ({"MAX_MESSAGE_BYTES": "lots"}, "MAX_MESSAGE_BYTES='lots'"),
    ],
)
def test_a_bad_value_stops_start_up_with_a_message_naming_the_variable(env, named):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)

    assert named in str(error.value)


def test_settings_are_frozen():
    settings = Settings.from_env({})

    with pytest.raises(AttributeError):
        settings.broker_url = "amqp://elsewhere"  # type: ignore[misc]
