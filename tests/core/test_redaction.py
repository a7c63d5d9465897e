from __future__ import annotations

import pytest

from desktop_app.core.redaction import REDACTED, Redactor, safe_url


def test_exact_secrets_and_live_url_tokens_are_redacted() -> None:
    redactor = Redactor()
    url = "https://live.browser-use.com/view?wss=wss%3A%2F%2Fabc.example%2Fdevtools&token=0123456789abcdef0123"
    redactor.add_url(url)
    text = redactor.redact(f"loading {url} and the token 0123456789abcdef0123 alone")
    assert "0123456789abcdef0123" not in text and "wss%3A%2F%2Fabc" not in text
    assert text.count(REDACTED) == 2


@pytest.mark.parametrize(
    "line",
    [
        "Authorization: Bearer abcdefghijklmnop",
        '{"X-Browser-Use-API-Key": "bu_live_abcdef0123456789"}',
        "api_key=sk-proj-abcdefghijklmnopqrstuvwxyz",
        "google AIzaSyA1234567890abcdefghijklmnop",
        "sk-ant-api03-abcdefghijklmnopqrstuvwx",
    ],
)
def test_key_shapes_are_redacted_even_when_never_seen(line: str) -> None:
    redacted = Redactor().redact(line)
    assert REDACTED in redacted
    for secret in ("abcdefghijklmnop", "abcdef0123456789", "abcdefghijklmnopqrstuvwxyz", "1234567890abcdefghijklmnop"):
        assert secret not in redacted


def test_short_values_are_not_treated_as_secrets() -> None:
    redactor = Redactor()
    redactor.add_secret("abc")
    assert redactor.redact("abc def") == "abc def"


def test_safe_url_drops_query_and_fragment() -> None:
    assert safe_url("https://live.example/view?token=abc#frag") == "https://live.example/view?…"
    assert safe_url("https://example.com/path") == "https://example.com/path"
    assert safe_url(None) == ""
