"""Find a local Ollama server so Settings can offer it (no key, nothing leaves the computer)."""

from __future__ import annotations

from desktop_app.backends.providers import OLLAMA_URL


async def detect_ollama(base_url: str = OLLAMA_URL, timeout: float = 0.8) -> list[str] | None:
    """The installed model names when Ollama answers, else None."""
    import httpx  # not needed at startup

    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.get(f"{base_url.rstrip('/')}/api/tags")
            response.raise_for_status()
            data = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        return None
    return [m["name"] for m in models if isinstance(m, dict) and isinstance(m.get("name"), str)]
