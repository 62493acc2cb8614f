"""Reading a `/metrics` answer (Prometheus text) in tests, with prometheus_client's own parser.

    samples(text, "amqp_queue_messages")   # [(labels, value), ...] of every sample of that name
    value(text, "outbox_backlog")          # the one unlabelled sample's value (fails unless exactly one)
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """Every sample named `name` (a counter's is `<name>_total`), with its labels."""
    return [(s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples
            if s.name == name]


def value(text: str, name: str) -> float:
    """The value of the single sample named `name`."""
    [(_, found)] = samples(text, name)
    return found
