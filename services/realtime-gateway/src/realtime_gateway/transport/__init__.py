"""How bytes reach and leave a client: the broadcast fan-out and engine.io's send queue, our aiohttp websocket
driver (compression, cheap close paths), what a client may send (protocol guard, Engine.IO request rules), and
the `socketio.AsyncServer` subclass that adds connection state recovery."""
