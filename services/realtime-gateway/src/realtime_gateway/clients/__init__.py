"""The connected clients: handshake and authentication, rooms, the socket handlers and client commands, typing,
presence, rate limits and connection caps, token expiry, payload validation."""
