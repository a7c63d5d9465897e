"""What each backend can do, importable without the backend itself (startup needs it early)."""

from __future__ import annotations

from desktop_app.core.backend_kind import BackendKind
from desktop_app.core.ports import Capabilities, SessionLimits

LOCAL = Capabilities(
    kind=BackendKind.LOCAL,
    display_name="Local",
    pauses_in_place=True,
    view_is_browser=BackendKind.LOCAL.view_is_browser,
    billed_while_alive=False,
    # Each session is a browser page and an agent on this computer (backends/page_target.py keeps
    # each agent to its own page): a few at once, not more than the computer carries.
    max_sessions=3,
    why_max_sessions="Local mode runs up to 3 sessions at once: each is a browser and an AI agent working on this computer.",
)

CLOUD = Capabilities(
    kind=BackendKind.CLOUD,
    display_name="Browser Use Cloud",
    pauses_in_place=False,
    view_is_browser=BackendKind.CLOUD.view_is_browser,
    billed_while_alive=True,
    limits=SessionLimits(idle_seconds=15 * 60, max_seconds=4 * 3600),
)

_BY_KIND = {LOCAL.kind: LOCAL, CLOUD.kind: CLOUD}


def capabilities_of(kind: BackendKind) -> Capabilities:
    return _BY_KIND[kind]


# The backend whose sessions can outlive the app (and are billed meanwhile).
BILLED_KIND = next(c.kind for c in _BY_KIND.values() if c.billed_while_alive)
# The backends whose sessions end with the app (any left open in the history were cut short).
UNBILLED_KINDS = tuple(c.kind for c in _BY_KIND.values() if not c.billed_while_alive)
