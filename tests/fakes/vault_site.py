"""A bank on 127.0.0.1 with a password and a 2FA step (for the vault tests).

``/vault_login.html`` posts the username and password to ``/vault/login``; right ones get the code
page, which posts ``code`` to ``/vault/totp``. The server checks the code with the same secret as an
authenticator would (pyotp, independent of Handoff's own TOTP code): the current window, or the one
before it when the code was typed just before the window turned, as real sites accept.
"""

from __future__ import annotations

import time
from typing import Any

import pyotp

from tests.fakes import site as site_module
from tests.fakes.site import SiteServer

USERNAME = "ada.vault@example.test"
PASSWORD = "Tr0ub4dor&3-vault"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

CODE_PAGE = """<title>Verify — Ledger Bank</title>
<style>body{font-family:system-ui,sans-serif;background:#f6f7fb;margin:0;color:#1d2433}
main{max-width:520px;margin:20px auto;background:#fff;border-radius:10px;padding:18px 26px}
label{display:block;margin-top:10px;font-weight:600;font-size:14px}
input{width:100%;box-sizing:border-box;font-size:20px;padding:8px;margin-top:4px;border:1px solid #c9cfdb;border-radius:6px;background:#fff;color:#000}
button{margin-top:16px;background:#1f5fbf;color:#fff;border:0;border-radius:6px;font-size:16px;padding:11px 22px}</style>
<main><h1>Two-step check</h1><form method="post" action="/vault/totp">
<label for="code">Code from your app</label><input id="code" name="code" inputmode="numeric">
<button id="verify" type="submit">Verify</button></form></main>"""


class VaultSite(SiteServer):
    def __init__(self) -> None:
        super().__init__()
        self.codes: list[tuple[str, float]] = []  # every code received, with when

    def _handler(self) -> Any:
        from functools import partial

        return partial(_VaultHandler, site=self, directory=str(site_module.PAGES))

    def code_was_right(self, code: str, at: float) -> bool:
        totp = pyotp.TOTP(TOTP_SECRET)
        return code in (totp.at(at), totp.at(at - 30))


class _VaultHandler(site_module._Handler):
    site: VaultSite

    def do_GET(self) -> None:
        if self.path.startswith("/vault/code-page"):
            self._html(CODE_PAGE)  # the code page by itself, for a test to measure where its field is
        else:
            super().do_GET()

    def do_POST(self) -> None:
        if not self.path.startswith("/vault/"):
            super().do_POST()
            return
        from urllib.parse import parse_qs

        length = int(self.headers.get("Content-Length") or 0)
        fields = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("utf-8", "replace")).items()}
        self.site.record({"path": self.path, **fields})
        if self.path == "/vault/login":
            if fields.get("username") == USERNAME and fields.get("password") == PASSWORD:
                self._html(CODE_PAGE)
            else:
                self._html("<title>Sign in failed</title><h1 id='failed'>Wrong email or password</h1>")
        elif self.path == "/vault/totp":
            code, at = fields.get("code", ""), time.time()
            self.site.codes.append((code, at))
            if self.site.code_was_right(code, at):
                self._html("<title>Accounts — Ledger Bank</title><h1 id='welcome'>Welcome, Ada. Balance: 1,204.00</h1>")
            else:
                self._html("<title>Code refused</title><h1 id='refused'>That code is not right</h1>")
