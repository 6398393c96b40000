"""Property-based: schemathesis generates requests from our own OpenAPI document; none may get a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import LiveServer


@pytest.fixture(scope="module")
def api_schema(live_server: LiveServer) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    # Valid and invalid inputs alike: wrong types, out-of-range numbers, missing fields, odd strings.
    loaded.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case, live_server: LiveServer) -> None:
    case.headers = {**(case.headers or {}), "Ocp-Apim-Subscription-Key": live_server.api_key}
    response = case.call(timeout=30)
    assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] and error["message"]
        assert response.headers["x-ms-error-code"] == [error["code"]]  # schemathesis lists header values
