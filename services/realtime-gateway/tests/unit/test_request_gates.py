"""transport/request_gates.py: the gateway's request checks (drain, Engine.IO rules, address cap) as one middleware."""

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from realtime_gateway.transport.request_gates import gated


async def test_gates_run_in_order_the_first_answer_wins_and_a_request_passing_all_reaches_the_handler():
    seen: list[str] = []

    def gate(name: str, answer: web.StreamResponse | None):
        async def check(request: web.Request) -> web.StreamResponse | None:
            seen.append(name)
            return answer

        return check

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append("handler")
        return web.Response(status=200)

    request = make_mocked_request("GET", "/socket.io/?EIO=4&transport=polling")
    passing = gated([gate("drain", None), gate("rules", None), gate("cap", None)])
    assert (await passing(request, handler)).status == 200
    assert seen == ["drain", "rules", "cap", "handler"]
    seen.clear()
    refusing = gated([gate("drain", None), gate("rules", web.Response(status=400)), gate("cap", None)])
    assert (await refusing(request, handler)).status == 400
    assert seen == ["drain", "rules"]


def test_the_gateway_wraps_its_requests_in_one_middleware_not_one_per_check():
    from realtime_gateway.main import create_app
    from realtime_gateway.settings import Settings
    from servicekit.jwt import JwksVerifier

    app = create_app(Settings(status_services=[]), jwt_verifier=JwksVerifier("http://127.0.0.1:9/jwks", issuer="i", audience="a"))
    assert len(app.middlewares) == 1
