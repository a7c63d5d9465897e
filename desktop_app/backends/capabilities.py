"""What each backend can do, importable without the backend itself (startup needs it early)."""

from __future__ import annotations

from desktop_app.backends import VIEW_IS_BROWSER
from desktop_app.core.ports import Capabilities, SessionLimits

LOCAL = Capabilities(
    kind="local",
    display_name="Local",
    pauses_in_place=True,
    view_is_browser=VIEW_IS_BROWSER["local"],
    billed_while_alive=False,
)

CLOUD = Capabilities(
    kind="cloud",
    display_name="Browser Use Cloud",
    pauses_in_place=False,
    view_is_browser=VIEW_IS_BROWSER["cloud"],
    billed_while_alive=True,
    limits=SessionLimits(idle_seconds=15 * 60, max_seconds=4 * 3600),
)

