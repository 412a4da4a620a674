"""Schemathesis against the dashboard's OpenAPI spec: no generated request gets a 5xx."""

from __future__ import annotations

from dataclasses import replace

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from dashboard.app import create_app

pytestmark = pytest.mark.integration
TOKEN = "schema-test-token"


@pytest.fixture
def api_schema(service_settings, rabbitmq_broker):
    app = create_app(replace(service_settings, dashboard_token=TOKEN), rabbitmq_broker)
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


def test_no_generated_request_gets_a_server_error(api_schema):
    # One Hypothesis run per operation (schemathesis' pytest plugin does not load under this pytest).
    checked = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case):
            response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"

        no_server_error()
        checked.append(operation.label)

    assert "POST /api/jobs" in checked and len(checked) >= 10, checked
