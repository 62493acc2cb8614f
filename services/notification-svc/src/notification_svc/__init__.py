"""notification-svc: the platform's notifications (schema `notification`)."""
