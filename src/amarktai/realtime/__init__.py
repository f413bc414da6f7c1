"""Real-time delivery: the per-process WebSocket hub between the bus and the clients."""
