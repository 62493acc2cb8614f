"""realtime-gateway: the platform's Socket.IO server (python-socketio on aiohttp)."""
