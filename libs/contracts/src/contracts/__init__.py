"""Contracts shared by every service: payloads, events, envelope. No I/O."""
