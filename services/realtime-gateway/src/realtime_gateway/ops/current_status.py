"""An admin's console that connects while a component is not operational is told so right after its CONNECT
(one `system:status_change` per such component, to that socket only): status changes are emitted once, when they
happen, and a console opened later would otherwise show no banner for a loss still going on.

Sent after the CONNECT reply (and after a recovery's replay), through `Accepted.after`, so the client has its
handlers and its connection when it arrives. End users are told nothing (they never get status changes)."""

from collections.abc import Callable

from contracts.identity import Principal
from contracts.payloads import StatusData
from contracts.socketio.events import SYSTEM_STATUS_CHANGE

from realtime_gateway.ops.component_status import Emit
from realtime_gateway.transport.recovery import Accepted

AfterAccept = Callable[[str, Principal, Accepted], Accepted]


def tell_current_status(current: Callable[[], list[StatusData]], emit: Emit) -> AfterAccept:
    """A `SocketHandlers(after_accept=...)` hook: an admin's accepted connection, then what is not operational."""

    def after_accept(sid: str, principal: Principal, accepted: Accepted) -> Accepted:
        if not principal.is_admin:
            return accepted

        async def after() -> None:
            await accepted.after()
            for data in current():  # taken now, not at the handshake: the latest word
                await emit(SYSTEM_STATUS_CHANGE, data.model_dump(mode="json"), [sid])

        return Accepted(accepted.pid, after)

    return after_accept
