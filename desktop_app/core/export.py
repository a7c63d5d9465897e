"""A session's audit trail, as JSON and as one self-contained HTML file.

Who had control when, and what was done. Nothing that grants access leaves the app: no keys, no
live view URL (it is never stored), no screenshot links (they can be signed URLs or local paths),
and every text passes the redactor.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from desktop_app import __version__
from desktop_app.core import timeline as tl
from desktop_app.core.store import SessionRecord
from desktop_app.core.messages import format_cost
from desktop_app.core.redaction import redactor

FORMAT = "handoff-audit-trail"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ControlPeriod:
    actor: str  # "agent", "person" or "nobody"
    start: float
    end: float | None


def control_periods(entries: list[tl.Entry]) -> list[ControlPeriod]:
    """Who had the browser from when to when, derived from the recorded events."""
    periods: list[ControlPeriod] = []
    current, since = "nobody", None

    def switch(actor: str, at: float) -> None:
        nonlocal current, since
        if actor == current:
            return
        if since is not None:
            periods.append(ControlPeriod(current, since, at))
        current, since = actor, at

    for entry in entries:
        if isinstance(entry, tl.SessionStarted):
            current, since = "nobody", entry.at
        elif isinstance(entry, tl.TaskStarted):
            switch("agent", entry.at)
        elif isinstance(entry, tl.Handoff):
            switch(entry.to.value, entry.at)
        elif isinstance(entry, tl.TaskFinished) and current == "agent":
            switch("nobody", entry.at)
        elif isinstance(entry, tl.SessionEnded):
            if since is not None:
                periods.append(ControlPeriod(current, since, entry.at))
            since = None
    if since is not None:
        periods.append(ControlPeriod(current, since, None))
    return periods


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + f".{int(moment * 1000) % 1000:03d}Z"


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redactor.redact(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k != "screenshot_url"}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def build(session: SessionRecord, entries: list[tl.Entry]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_by": f"Handoff {__version__}",
        "exported_at": _iso(time.time()),
        "session": {
            "id": session.id,
            "backend": session.backend,
            "first_task": _clean(session.first_task),
            "started_at": _iso(session.started_at),
            "ended_at": _iso(session.ended_at),
            "end_reason": _clean(session.end_reason),
            "total_cost_usd": str(session.total_cost),
        },
        "control": [
            {"actor": p.actor, "from": _iso(p.start), "to": _iso(p.end)} for p in control_periods(entries)
        ],
        "events": [
            {"time": _iso(e.at), "title": _clean(e.title), "detail": _clean(e.full_detail), "data": _clean(tl.entry_to_dict(e))}
            for e in entries
        ],
    }


def to_json(trail: dict[str, Any]) -> str:
    return json.dumps(trail, indent=2, ensure_ascii=False)


ACTOR_LABELS = {"agent": "Agent", "person": "You", "nobody": "Nobody"}

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2433;margin:2em auto;max-width:60em;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}.meta{color:#5b6476;margin-top:0}
table{border-collapse:collapse;width:100%;margin:1em 0}th,td{text-align:left;padding:.45em .6em;border-bottom:1px solid #e3e6ee;vertical-align:top}
th{background:#f4f6fb;font-weight:600}.agent{border-left:4px solid #3b6fd8}.person{border-left:4px solid #1f9d55}.nobody{border-left:4px solid #c7ccd6}
.task{font-size:1.1em;white-space:pre-wrap}.time{white-space:nowrap;color:#5b6476;font-variant-numeric:tabular-nums}.detail{color:#3b4252;white-space:pre-wrap}
"""


def _local(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone()  # the exporting computer's time zone


def _zone(iso: str) -> str:
    offset = _local(iso).strftime("%z")  # "+0100"
    return f"UTC{offset[:3]}:{offset[3:]}"


class _LocalTimes:
    """A trail's times as a person reads them: "2026-11-24 15:03:05", in the exporter's local time.
    The UTC offset is said once, or after every time if it changed during the session (summer time)."""

    def __init__(self, moments: list[str | None]) -> None:
        zones = {_zone(m) for m in moments if m}
        self.each = len(zones) > 1
        self.note = "local times" if self.each or not zones else f"local times, {zones.pop()}"

    def __call__(self, iso: str | None, missing: str = "", *, zone: bool = False) -> str:
        if not iso:
            return missing
        text = _local(iso).strftime("%Y-%m-%d %H:%M:%S")
        return f"{text} {_zone(iso)}" if zone or self.each else text


def _headline(session: dict[str, Any]) -> str:
    """What the session was for, as its first task says (else its id): how a reader finds it."""
    task = " ".join(str(session.get("first_task") or "").split())
    if not task:
        return f"session {session['id']}"
    return task if len(task) <= 80 else task[:79] + "…"


def to_html(trail: dict[str, Any]) -> str:
    esc = html.escape
    session = trail["session"]
    _readable = _LocalTimes(
        [session["started_at"], session["ended_at"]]
        + [m for p in trail["control"] for m in (p["from"], p["to"])]
        + [e["time"] for e in trail["events"]]
    )
    control_rows = "".join(
        f'<tr class="{esc(p["actor"])}"><td>{esc(ACTOR_LABELS.get(p["actor"], p["actor"]))}</td>'
        f'<td class="time">{esc(_readable(p["from"]))}</td><td class="time">{esc(_readable(p["to"], "still open"))}</td></tr>'
        for p in trail["control"]
    )
    event_rows = "".join(
        f'<tr><td class="time">{esc(_readable(e["time"]))}</td><td><b>{esc(e["title"])}</b>'
        f'<div class="detail">{esc(e["detail"])}</div></td></tr>'
        for e in trail["events"]
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Handoff audit trail — {esc(_headline(session))}</title>
<style>{_STYLE}</style></head><body>
<h1>Audit trail of a Handoff session</h1>
{f'<p class="task">First task: {esc(session["first_task"])}</p>' if session.get("first_task") else ""}
<p class="meta">Session {esc(session["id"])} · {esc(session["backend"])} · started {esc(_readable(session["started_at"]))}
· ended {esc(_readable(session["ended_at"], "not recorded"))}{" (" + esc(session["end_reason"]) + ")" if session["end_reason"] else ""}
· cost {esc(format_cost(Decimal(session["total_cost_usd"])))} · exported {esc(_readable(trail["exported_at"], zone=True))} by {esc(trail["exported_by"])} ({esc(_readable.note)})</p>
<h2>Who had control</h2>
<table><thead><tr><th>Who</th><th>From</th><th>To</th></tr></thead><tbody>{control_rows}</tbody></table>
<h2>What happened</h2>
<table><thead><tr><th>Time</th><th>Event</th></tr></thead><tbody>{event_rows}</tbody></table>
</body></html>
"""
