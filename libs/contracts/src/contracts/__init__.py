"""Contracts shared by every service: payloads, events, envelope. No I/O.

- ``contracts.time``       Beijing time (``BeijingDatetime``, ``to_beijing_iso``, ``parse_iso``)
- ``contracts.identity``   ``Principal``, ``UserType``
- ``contracts.payloads``   the data models REST, the bus and Socket.IO all carry (``NotificationData``,
                           ``ChatMessageData``, ``SessionData``, ``AlertData``, ...), one module per domain module
- ``contracts.socketio``   the Socket.IO event registry (``socketio.events``), acks, client -> server payloads
- ``contracts.events``     domain-event envelope and registry, payloads, commands, RabbitMQ topology
- ``contracts.errors``     ``ContractError`` and its subclasses
- ``contracts.cli``        ``contracts-gen`` and ``contracts-verify``
"""
