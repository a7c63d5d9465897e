"""A plain web server on 127.0.0.1 that answers every path with the same page (a captive portal, an
intranet site): an address that answers, but not as an API does."""

from __future__ import annotations

from typing import Any

from tests.fakes.loopback import LoopbackServer, QuietHandler, send_body

PAGE = b"<!doctype html><title>Welcome</title><p>Intranet</p>"


class WebPageServer(LoopbackServer):
    def _handler(self) -> Any:
        class Handler(QuietHandler):
            def do_GET(self) -> None:
                send_body(self, 200, PAGE, "text/html; charset=utf-8")

        return Handler
