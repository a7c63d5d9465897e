"""A threaded HTTP server on 127.0.0.1 (a free port), started and stopped with the fake that owns it."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LoopbackServer:
    def _handler(self) -> Any:
        """The request handler class (or factory) for this fake."""
        raise NotImplementedError

    def start(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        server = getattr(self, "_server", None)
        if server is not None:
            server.shutdown()
            server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        server = getattr(self, "_server", None)
        assert server is not None, "start() the fake first"
        return f"http://127.0.0.1:{server.server_address[1]}"


__all__ = ["BaseHTTPRequestHandler", "LoopbackServer"]
