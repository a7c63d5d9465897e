"""A fake Ollama on 127.0.0.1: ``GET /api/tags`` lists the models it was given, as Ollama's own does."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.loopback import LoopbackServer, QuietHandler, send_body


class FakeOllama(LoopbackServer):
    def __init__(self, models: list[str]) -> None:
        self.models = list(models)

    def _handler(self) -> Any:
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                body = json.dumps({"models": [{"name": name} for name in server.models]}).encode()
                send_body(self, 200, body, "application/json")

        return Handler
