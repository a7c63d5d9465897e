"""A threaded HTTP server on 127.0.0.1 (a free port), started and stopped with the fake that owns it."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up before its answer (a cancelled request) is not an error of the fake."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class LoopbackServer:
    def _handler(self) -> Any:
        """The request handler class (or factory) for this fake."""
        raise NotImplementedError

    def start(self) -> Self:
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
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


def send_body(
    handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
) -> None:
    """Answer a request with ``body`` (its type and length said), plus any extra headers."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps test output clean (no line per request on stderr)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


__all__ = ["BaseHTTPRequestHandler", "LoopbackServer", "QuietHandler", "send_body"]
