"""Commands notification-svc answers for the gateway (``servicekit.commands``): ``notification.mark_read``,
carried out by the same use case as ``POST /api/v4/notifications/{id}/read``, as the command's principal."""

from aio_pika.abc import AbstractRobustConnection
from contracts.events.commands import NOTIFICATION_MARK_READ, CommandMessage
from contracts.identity import Principal
from contracts.socketio.client import MarkReadPayload
from contracts.socketio.payloads import NotificationUpdateData
from servicekit.amqp import Publisher
from servicekit.commands import CommandFailed, serve_commands
from sqlalchemy.ext.asyncio import AsyncEngine

from notification_svc import notifications
from notification_svc.domain import DomainError

SERVICE = "notification-svc"


def map_error(exc: Exception) -> CommandFailed | None:
    if isinstance(exc, DomainError):
        return CommandFailed(exc.code, exc.message)
    return None


def handlers(engine: AsyncEngine):
    async def mark_read(principal: Principal, payload: MarkReadPayload, command: CommandMessage) -> NotificationUpdateData:
        async with engine.begin() as db:
            await notifications.mark_read(db, principal, payload.notification_id,
                                          correlation_id=str(command.command_id))
        return NotificationUpdateData(notification_id=payload.notification_id, is_read=True)

    return {NOTIFICATION_MARK_READ: mark_read}


def command_server(engine: AsyncEngine):
    async def on_connect(connection: AbstractRobustConnection, publisher: Publisher) -> None:
        await serve_commands(connection, publisher, service=SERVICE, handlers=handlers(engine), map_error=map_error)

    return on_connect
