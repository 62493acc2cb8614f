"""Commands notification-svc answers for the gateway (``servicekit.commands``): ``notification.mark_read``,
carried out by the same use case as ``POST /api/v4/notifications/{id}/read``, as the command's principal, with
the command id as the correlation id of its event. Refusals become error replies in servicekit.commands."""

from contracts.events.commands import NOTIFICATION_MARK_READ, CommandMessage, CommandName
from contracts.identity import Principal
from contracts.payloads import NotificationUpdateData
from contracts.socketio.client import MarkReadPayload
from servicekit.commands import CommandHandler
from servicekit.uow import UnitsOfWork

from notification_svc import notifications


def command_handlers(work: UnitsOfWork) -> dict[CommandName, CommandHandler]:
    async def mark_read(principal: Principal, payload: MarkReadPayload, command: CommandMessage) -> NotificationUpdateData:
        async with work.begin(correlation_id=str(command.command_id)) as uow:
            await notifications.mark_read(uow, principal, payload.notification_id)
        return NotificationUpdateData(notification_id=payload.notification_id, is_read=True)

    return {NOTIFICATION_MARK_READ: mark_read}
