"""Schemathesis against each service's OpenAPI document, over HTTP against the running stack (real processes,
real PostgreSQL): generated requests, with a real token, must never get a 5xx, and every response must match
the documented schema. Examples are bounded so this stays in seconds per service."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.integration.conftest import AUTH, CHAT, NOTIFICATION
from tests.integration.sockets import login

pytestmark = pytest.mark.integration

EXAMPLES = 15
SERVICES = {AUTH: "user3", NOTIFICATION: "admin3", CHAT: "user5"}


@pytest.fixture(params=list(SERVICES))
async def api(request, stack):
    service = request.param
    token = (await login(stack.url(AUTH), SERVICES[service]))["access_token"]
    schema = schemathesis.openapi.from_url(f"{stack.url(service)}/openapi.json")
    schema.base_url = stack.url(service)
    return schema, {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api_schema(api):
    return api[0]


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_no_5xx_and_every_response_matches_its_schema(case, api):
    _, headers = api
    if case.path.endswith("/login") or case.path.endswith("/register"):
        headers = {}  # keep the fuzzing from locking out or flooding real accounts' logins
    case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance], timeout=30)
