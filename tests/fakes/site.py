"""A small website on 127.0.0.1 for browser tests: static pages from ``site/`` plus form posts.

What the pages submit (``POST /submit``) is recorded in ``submissions``, so a test can check what
the agent or the person entered.
"""

from __future__ import annotations

import html

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.loopback import LoopbackServer, send_body

PAGES = Path(__file__).resolve().parent / "site"


class SiteServer(LoopbackServer):
    def __init__(self) -> None:
        self.submissions: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def _handler(self) -> Any:
        return partial(_Handler, site=self, directory=str(PAGES))

    def url(self, page: str) -> str:
        return f"{self.origin}/{page.lstrip('/')}"

    def record(self, fields: dict[str, Any]) -> None:
        with self._lock:
            self.submissions.append(fields)


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, site: SiteServer, **kwargs: Any) -> None:
        self.site = site
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/login"):
            # A site login that should survive restarts of the local browser.
            self._html("<title>Logged in</title><h1>Welcome back</h1>", {"Set-Cookie": "handoff_login=ada; Max-Age=86400; Path=/"})
        elif self.path.startswith("/whoami"):
            cookies = self.headers.get("Cookie", "")
            self.site.record({"path": "/whoami", "cookie": cookies})
            who = "ada" if "handoff_login=ada" in cookies else "nobody"
            self._html(f"<title>Who am I</title><h1 id='who'>Logged in as: {who}</h1>")
        elif self.path.startswith("/echo"):
            # A page showing a text from its address (a profile page showing the name typed earlier).
            text = html.escape(parse_qs(urlsplit(self.path).query).get("text", [""])[0])
            self._html(f"<title>Your details</title><p id='echo'>Your name: {text}</p>")
        elif self.path.startswith("/report.txt"):
            send_body(self, 200, b"quarterly numbers\n", "text/plain", {"Content-Disposition": 'attachment; filename="report.txt"'})
        else:
            super().do_GET()

    def _html(self, body_html: str, headers: dict[str, str] | None = None) -> None:
        body = f"<!doctype html><html><head><meta charset='utf-8'></head><body>{body_html}</body></html>".encode()
        send_body(self, 200, body, "text/html; charset=utf-8", headers)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        if self.headers.get("Content-Type", "").startswith("application/json"):
            fields = json.loads(raw or "{}")
        else:
            fields = {k: v[0] for k, v in parse_qs(raw).items()}
        self.site.record({"path": self.path, **fields})
        body = b"<html><head><title>Thanks</title></head><body><h1 id='thanks'>Thanks, received.</h1></body></html>"
        send_body(self, 200, body, "text/html; charset=utf-8")
