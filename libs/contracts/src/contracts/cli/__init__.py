"""Command-line tools: ``contracts-gen`` (generated documents) and ``contracts-verify`` (event names)."""
