"""Verification-only entry point, frozen next to the app by ``HANDOFF_BUNDLE_CHECK=1`` and never shipped.

It runs inside the bundle with the app's own PYZ (the spec builds it from the same module archive and
runtime hooks), so it sees exactly the modules, data files and metadata the shipped app has. It
checks what the smoke test cannot reach: browser-use (imported only when Local mode starts a
session), its prompt templates, keyring's backend discovery, and that no test code was bundled.

With ``--cdp-url URL --page-url URL`` it also connects browser-use, as Local mode does, to a running
frozen Handoff's DevTools port, opens the page and reads it back (DOM elements and a screenshot).
build.py starts the app and a loopback page server for that.

Prints one JSON object per check on stdout and exits 0 only if every check passed.
build.py runs it, then deletes it with its folder before packaging anything.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable

from desktop_app.system.early_init import QUIET_BROWSER_USE

# As the app does (desktop_app.system.early_init.prepare_environment): no telemetry, no logging setup on import.
os.environ.update(QUIET_BROWSER_USE)

CHECKS: list[tuple[str, Callable[[], str]]] = []


def check(function: Callable[[], str]) -> Callable[[], str]:
    CHECKS.append((function.__name__, function))
    return function


@check
def frozen() -> str:
    assert getattr(sys, "frozen", False), "not running frozen"
    return sys._MEIPASS  # type: ignore[attr-defined]


@check
def app_resources() -> str:
    from desktop_app.system.paths import resources_dir

    root = resources_dir()
    for name in ("start.html", "style.qss", "icons/handoff.svg", "page_privacy.js"):
        assert (root / name).is_file(), f"missing {root / name}"
    return str(root)


@check
def screenshot_masking() -> str:
    # Imported lazily by the app (the first screenshot of a Local session): Pillow and cdp-use's
    # page client must be in the bundle, or Local screenshots could not be masked.
    import base64
    import io

    from PIL import Image

    from desktop_app.backends import screenshot_masking as masking

    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (255, 255, 255)).save(buffer, "PNG")
    masked = masking.mask_screenshot(base64.b64encode(buffer.getvalue()).decode(), (None,), {})
    assert Image.open(io.BytesIO(base64.b64decode(masked))).getpixel((20, 10)) == masking.MASK_FILL
    masking._wrap_capture()
    return "masked"


@check
def browser_use_imports() -> str:
    # What desktop_app.backends.browser_use_setup.import_browser_use touches, in the same way.
    from desktop_app.backends.browser_use_setup import import_browser_use as _import_browser_use

    module = _import_browser_use()
    from browser_use import Agent, BrowserSession, Tools  # noqa: F401

    return module.__file__ or "?"


@check
def browser_use_chat_models() -> str:
    # Every provider desktop_app.backends.llm.make_llm can build.
    from browser_use.llm.anthropic.chat import ChatAnthropic
    from browser_use.llm.browser_use.chat import ChatBrowserUse
    from browser_use.llm.google.chat import ChatGoogle
    from browser_use.llm.ollama.chat import ChatOllama
    from browser_use.llm.openai.chat import ChatOpenAI

    made = [
        ChatOpenAI(model="gpt-4.1-mini", api_key="x"),
        ChatAnthropic(model="claude-sonnet-4-0", api_key="x"),
        ChatGoogle(model="gemini-2.5-flash", api_key="x"),
        ChatOllama(model="llama3"),
        ChatBrowserUse(api_key="x"),
    ]
    return ", ".join(type(m).__name__ for m in made)


@check
def browser_use_system_prompts() -> str:
    from browser_use.agent.prompts import SystemPrompt

    from importlib.resources import files

    templates = [p for p in files("browser_use.agent.system_prompts").iterdir() if p.name.endswith(".md")]
    assert len(templates) >= 8, f"only {len(templates)} prompt templates: {[p.name for p in templates]}"
    lengths = []
    variants = (
        {},
        {"use_thinking": False},
        {"flash_mode": True},
        {"flash_mode": True, "is_anthropic": True},
        {"is_browser_use_model": True},
    )
    for options in variants:
        message = SystemPrompt(**options).get_system_message()
        text = message.content if isinstance(message.content, str) else str(message.content)
        assert len(text) > 1000, f"system prompt {options} is only {len(text)} characters"
        lengths.append(len(text))
    return f"{len(templates)} templates; {len(variants)} prompt variants load ({lengths} characters)"


@check
def browser_use_tools_and_agent() -> str:
    # The local backend's own tool set (with request_human) and an Agent built on it, as Local mode does.
    from browser_use import Agent, BrowserProfile, BrowserSession

    from desktop_app.backends.local import ASK_FOR_HUMAN, LocalBackend

    class OfflineModel:
        """Never called: building an Agent must not reach any model."""

        model = "offline"
        provider = "offline"
        name = "offline"
        model_name = "offline"
        _verified_api_keys = True

        async def ainvoke(self, messages, output_format=None, **kwargs):  # pragma: no cover
            raise RuntimeError("not for use")

    backend = object.__new__(LocalBackend)
    backend._may_act = False
    backend._pending_request = None
    import browser_use

    tools = LocalBackend._make_tools(backend, browser_use)
    session = BrowserSession(
        cdp_url="http://127.0.0.1:9", is_local=False, browser_profile=BrowserProfile(headless=False, no_viewport=True)
    )
    agent = Agent(
        task="check",
        llm=OfflineModel(),
        browser_session=session,
        tools=tools,
        extend_system_message=ASK_FOR_HUMAN,
        use_judge=False,
        enable_signal_handler=False,
        calculate_cost=False,
        directly_open_url=False,
    )
    actions = sorted(tools.registry.registry.actions)
    assert "request_human" in actions, actions
    return f"Agent {agent.version}; {len(actions)} actions incl. request_human"


@check
def browser_use_version_metadata() -> str:
    from importlib.metadata import version

    return f"browser-use {version('browser-use')}, browser-use-sdk {version('browser-use-sdk')}"


@check
def keyring_backends() -> str:
    # keyring imports its backends only through entry points found in its dist-info metadata: without
    # that metadata only the "fail" backend exists and every key is lost at exit.
    import keyring
    import keyring.backend
    from keyring.compat import py312

    found = sorted(ep.name for ep in py312.metadata.entry_points(group="keyring.backends"))
    keyring.backend.get_all_keyring()  # loads every entry point, as keyring does on first use
    loaded = {f"{cls.__module__}.{cls.__name__}": cls for cls in keyring.backend.KeyringBackend._classes}
    if sys.platform.startswith("linux"):
        expected = "keyring.backends.SecretService.Keyring"  # needs SecretStorage and jeepney
    elif sys.platform == "darwin":
        expected = "keyring.backends.macOS.Keyring"
    else:
        expected = "keyring.backends.Windows.WinVaultKeyring"
    assert expected in loaded, f"{expected} not loaded; entry points {found}; loaded {sorted(loaded)}"
    backend = loaded[expected]
    try:
        viable = f"priority {backend.priority:g}"
    except Exception as error:  # e.g. no D-Bus session here: fine, the app falls back to memory
        viable = f"not usable on this machine ({type(error).__name__}: {error})"
    return f"entry points {found}; {expected} loaded, {viable}; chosen {type(keyring.get_keyring()).__name__}"


@check
def cloud_sdk() -> str:
    from browser_use_sdk import AsyncBrowserUse  # noqa: F401

    from desktop_app.backends.cloud import CloudBackend  # noqa: F401

    return "browser_use_sdk and the cloud backend import"


@check
def no_test_code() -> str:
    import importlib.util

    for name in ("tests", "pytest", "pytestqt"):
        assert importlib.util.find_spec(name) is None, f"{name} is in the bundle"
    return "tests/, pytest and pytest-qt are not bundled"


def browser_use_drives_the_app(cdp_url: str, page_url: str) -> str:
    # What LocalBackend.open_session does, then one navigation and one read of the page.
    import asyncio

    from browser_use import BrowserProfile, BrowserSession
    from browser_use.browser.events import NavigateToUrlEvent

    async def drive() -> str:
        profile = BrowserProfile(headless=False, no_viewport=True, keep_alive=True, auto_download_pdfs=False)
        session = BrowserSession(cdp_url=cdp_url, is_local=False, browser_profile=profile)
        await session.start()
        try:
            await session.event_bus.dispatch(NavigateToUrlEvent(url=page_url))
            for _ in range(20):
                state = await session.get_browser_state_summary(include_screenshot=True)
                # Read it now: stop() below resets browser-use's state, cached selector map included.
                url, elements, screenshot = state.url, len(state.dom_state.selector_map), len(state.screenshot or "")
                if url == page_url and elements and screenshot:
                    break
                await asyncio.sleep(0.5)
        finally:
            await session.stop()
        assert url == page_url, f"the view shows {url}, not {page_url}"
        assert elements >= 2, f"{elements} interactive elements on the page (a button and an input expected)"
        assert screenshot, "no screenshot"
        return f"{elements} interactive elements, screenshot of {screenshot} base64 characters"

    # browser-use prints connection notes on stdout; keep stdout for this script's JSON lines.
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return asyncio.run(drive())


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--cdp-url")
    parser.add_argument("--page-url")
    args = parser.parse_args()
    if args.cdp_url and args.page_url:
        CHECKS.append(("browser_use_drives_the_app", lambda: browser_use_drives_the_app(args.cdp_url, args.page_url)))
    failed = 0
    for name, function in CHECKS:
        try:
            detail = function()
            result = {"check": name, "passed": True, "detail": detail}
        except BaseException as error:  # noqa: BLE001 - report every failure, then exit non-zero
            failed += 1
            result = {"check": name, "passed": False, "detail": f"{type(error).__name__}: {error}",
                      "traceback": traceback.format_exc()}
        print(json.dumps(result), flush=True)
    print(json.dumps({"check": "summary", "passed": failed == 0, "failed": failed, "total": len(CHECKS)}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
