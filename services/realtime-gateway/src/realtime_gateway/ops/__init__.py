"""Running the gateway: `/health`, Prometheus metrics, graceful drain."""
