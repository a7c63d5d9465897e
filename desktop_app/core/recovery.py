"""No forgotten sessions: at start, what earlier runs left open is checked against the provider.

Sessions the provider no longer runs are marked ended in the history; the ones still running (and
billed) are returned so the person can reattach or stop them. Local sessions cannot outlive the
app, so any left open were cut short by a crash and are closed in the history.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from desktop_app.core import timeline as tl
from desktop_app.core.ports import Backend, RemoteSession
from desktop_app.core.store import UNCONFIRMED_PREFIX, HistoryStore

GONE_REASON = "Had already ended when Handoff started again"
CUT_SHORT_REASON = "Handoff closed unexpectedly"
UNCONFIRMED_CHECKED = "A session start whose answer was lost; checked with the provider at the next start"


def close_local_leftovers(history: HistoryStore, kinds: Iterable[str], *, current: Collection[str] = ()) -> None:
    """``kinds``: the backends whose sessions end with the app (none of them can still run)."""
    for kind in kinds:
        for session in history.open_sessions(kind):
            if session.id not in current:
                history.mark_ended(session.id, CUT_SHORT_REASON)


async def find_left_running(history: HistoryStore, checker: Backend, *, current: Collection[str] = ()) -> list[RemoteSession]:
    """Sessions earlier runs left open that still run (``current``, this run's own, are not),
    and any session started unseen while a start's answer was lost (an ``unconfirmed`` marker).
    Raises BackendError when the provider cannot be asked (the sessions stay marked open)."""
    recorded = [s for s in history.open_sessions(checker.capabilities.kind) if s.id not in current]
    if not recorded:
        return []
    markers = [s for s in recorded if s.id.startswith(UNCONFIRMED_PREFIX)]
    open_ids = {s.id for s in recorded if s not in markers}
    since = min((s.started_at for s in markers), default=None)
    live = await checker.find_live_sessions(open_ids, started_since=since)
    # Besides the open ones, only sessions the history has never seen (never this run's own).
    seen = {s.id for s in history.sessions()} | set(current)
    live = [s for s in live if s.id in open_ids or s.id not in seen]
    live_ids = {s.id for s in live}
    for session in recorded:
        if session in markers:
            history.mark_ended(session.id, UNCONFIRMED_CHECKED)
        elif session.id not in live_ids:
            history.mark_ended(session.id, GONE_REASON)
    return live


def recorded_steps(history: HistoryStore, session_id: str) -> dict[str, int]:
    """How many steps of each task the history already holds (so reattaching adds only new ones)."""
    counts: dict[str, int] = {}
    for entry in history.entries(session_id):
        if isinstance(entry, tl.AgentStep):
            counts[entry.step.task_id] = max(counts.get(entry.step.task_id, 0), entry.step.number)
    return counts
