"""Domain events to Socket.IO events: the durable stream and its consumer, dedup by `event_id`, the one routing
table, and the one place that emits to local sockets."""
