"""chat-svc: customer-service chat (schema `chat`)."""
