"""Schemathesis against each service's OpenAPI document, over HTTP against the running stack (real processes,
real PostgreSQL): generated requests, with a real token, must never get a 5xx, and every response must match
the documented schema, under a documented status (errors included: 401, 403, 404, 409, 422, 429). Examples are bounded so this stays in seconds per service.

Every `date-time` field gets values at the edges of what can be stored as well as ordinary ones: years 0001 and
9999 with the widest offsets (`9999-12-31T23:59:59-12:00` was a 500), so an out-of-range date must be a 422."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.integration.conftest import AUTH, CHAT, NOTIFICATION
from tests.integration.sockets import login

pytestmark = pytest.mark.integration

EXAMPLES = 15


def _date_times() -> st.SearchStrategy[str]:
    """RFC 3339 date-times: any day, or (as often) the first and last days Python and PostgreSQL share, with
    the widest offsets."""
    day = st.sampled_from(["0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31"]) | st.dates().map(str)
    time = st.sampled_from(["00:00:00", "12:00:00.5", "23:59:59", "23:59:59.999999"])
    offset = st.sampled_from(["Z", "+00:00", "+08:00", "-12:00", "+14:00", "-23:59", "+23:59"])
    return st.builds("{}T{}{}".format, day, time, offset)


schemathesis.openapi.format("date-time", _date_times())
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
    case.call_and_validate(headers=headers, checks=[not_a_server_error, status_code_conformance, response_schema_conformance], timeout=30)
