"""Contracts shared by every service: payloads, events, envelope. No I/O.

- ``contracts.time``       Beijing time (``BeijingDatetime``, ``to_beijing_iso``, ``parse_iso``)
- ``contracts.identity``   ``Principal``, ``UserType``
- ``contracts.socketio``   Socket.IO payload models, the event registry (``socketio.events``), acks
- ``contracts.events``     domain-event envelope and registry, payloads, commands, RabbitMQ topology
- ``contracts.errors``     ``ContractError`` and its subclasses
- ``contracts.cli``        ``contracts-gen`` and ``contracts-verify``
"""
