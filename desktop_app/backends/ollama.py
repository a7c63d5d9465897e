"""Find a local Ollama server so Settings can offer it (no key, nothing leaves the computer)."""

from __future__ import annotations

import asyncio
import json

from desktop_app.backends.providers import OLLAMA_URL


async def detect_ollama(base_url: str = OLLAMA_URL, timeout: float = 0.8) -> list[str] | None:
    """The installed model names when Ollama answers, else None.

    The standard library in a worker thread: an httpx client builds a TLS context on the
    window's thread (~140 ms, felt as Settings freezing), which a plain http:// call never uses."""
    return await asyncio.to_thread(_ask_ollama, base_url, timeout)


def _ask_ollama(base_url: str, timeout: float) -> list[str] | None:
    import urllib.error
    import urllib.request

    url = f"{base_url.rstrip('/')}/api/tags"
    if not url.startswith(("http://", "https://")):
        return None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 (http(s) only, checked above)
            data = json.loads(answer.read(4 * 2**20))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        return None
    return [m["name"] for m in models if isinstance(m, dict) and isinstance(m.get("name"), str)]
