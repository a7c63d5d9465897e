"""Each Local agent sees only its own page of the built-in browser.

QtWebEngine serves every view's page on the one DevTools port, and browser-use attaches to the
whole browser: left alone, the agent of one session would list the other sessions' pages as tabs,
could switch to them, and its watchdogs would follow them. browser-use keeps every target it may
act on in its ``SessionManager`` pool (all its tab lists and focus changes read that pool), so the
pool is filtered at its two doors: the targets found at connection and those attached later. A
page is the session's when its DevTools target id is the view's (``QWebEnginePage.devToolsId()``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PAGE_TYPES = ("page", "tab")

# id(BrowserSession) → the target id of the one page it may use (read when a target appears).
_owned: dict[int, Callable[[], str | None]] = {}
_installed = False


def restrict(browser_session: Any, page_target: Callable[[], str | None]) -> None:
    """From now on (call before ``start()``) ``browser_session`` sees no page but ``page_target()``'s."""
    _install()
    _owned[id(browser_session)] = page_target


def release(browser_session: Any) -> None:
    _owned.pop(id(browser_session), None)


def sees(browser_session: Any, target_info: dict[str, Any]) -> bool:
    """Whether the session may keep ``target_info`` in its pool: its own page, and what is not a
    page (its frames and workers come through its own page's session)."""
    owned = _owned.get(id(browser_session))
    if owned is None or target_info.get("type") not in PAGE_TYPES:
        return True
    return target_info.get("targetId") == owned()


def _install() -> None:
    global _installed
    if _installed:
        return
    import browser_use.browser.session_manager as module

    base = module.SessionManager

    class OnePageSessionManager(base):  # type: ignore[misc,valid-type]
        async def _handle_target_attached(self, event: Any) -> None:
            if sees(self.browser_session, event.get("targetInfo", {})):
                await super()._handle_target_attached(event)

        async def _initialize_existing_targets(self) -> None:
            # Only this session's page is attached (and waited for) at connection.
            targets = self.browser_session._cdp_client_root.send.Target
            get_targets = targets.getTargets

            async def own_targets(*args: Any, **kwargs: Any) -> Any:
                found = await get_targets(*args, **kwargs)
                infos = [t for t in found.get("targetInfos", []) if sees(self.browser_session, t)]
                return {**found, "targetInfos": infos}

            targets.getTargets = own_targets
            try:
                await super()._initialize_existing_targets()
            finally:
                del targets.getTargets

    module.SessionManager = OnePageSessionManager  # connect() imports it from there at each connection
    _installed = True


__all__ = ["release", "restrict", "sees"]
