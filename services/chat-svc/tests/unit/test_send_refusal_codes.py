"""The precise codes a `chat:send_message` can be refused with are codes the contract (and so the SDK's
`KnownErrorCode`) names: a client branches on them, so they must not be strings only chat-svc knows."""

from chat_svc.domain import SessionClosed
from contracts.socketio.ack import ERROR_CODES
from servicekit.errors import ack_code
from servicekit.idempotency import IdempotencyKeyReused


def test_send_message_refusals_reach_the_socket_with_a_code_the_contract_names() -> None:
    for error in (SessionClosed("the session has ended"), IdempotencyKeyReused()):
        code = ack_code(error)
        assert code == error.code  # precise, not the status class's "conflict" / "invalid_payload"
        assert code in ERROR_CODES
