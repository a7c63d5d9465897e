"""The SQLite history and the audit-trail export, without Qt."""

from __future__ import annotations

import json
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import pytest

from desktop_app.core import timeline as tl
from desktop_app.core.controller import SessionController
from desktop_app.core.events import EventBus, Notice
from desktop_app.core.export import build, control_periods, to_html, to_json
from desktop_app.core.ports import RunResult, RunStatus, StepReport
from desktop_app.core.store import MIGRATIONS, SCHEMA_VERSION, HistoryStore
from desktop_app.core.redaction import redactor
from tests.fakes.scripted_backend import ScriptedBackend


def attached(store: HistoryStore, bus: EventBus) -> list[Notice]:
    notices: list[Notice] = []
    store.attach(bus.subscribe, notices.append)
    return notices


def test_a_session_is_recorded_as_it_happens(tmp_path: Path, arun) -> None:
    bus = EventBus()
    store = HistoryStore.open(tmp_path / "history.sqlite3")
    attached(store, bus)
    backend = ScriptedBackend()
    controller = SessionController(backend, bus)

    async def scenario() -> None:
        await controller.new_session().done
        await controller.run("Book the table").done
        task_id = controller.work.run.handle.task_id
        backend.report_step(task_id, 1, "Open the site")
        backend.listener.on_finished(RunResult(task_id, RunStatus.FINISHED, "Booked", True, Decimal("0.25"), 1))
        await controller.take_over().done
        await controller.hand_back(note="Checked the time").done
        await controller.stop_session().done

    arun(scenario())
    # A second connection, as after a crash: everything is already on disk.
    reopened = HistoryStore.open(tmp_path / "history.sqlite3")
    [session] = reopened.sessions()
    assert (session.id, session.backend_kind, session.tasks, session.total_cost) == ("session-1", "cloud", 1, Decimal("0.25"))
    assert session.ended_at is not None and session.end_reason == "Stopped by you"
    kinds = [e.kind for e in reopened.entries("session-1")]
    assert kinds == ["SessionStarted", "TaskStarted", "AgentStep", "TaskFinished", "Handoff", "Handoff", "SessionEnded"]
    assert reopened.entries("session-1")[:-1] == controller.timeline.entries[:-1]
    assert reopened.open_sessions("cloud") == []


def test_every_entry_kind_survives_the_round_trip() -> None:
    now = time.time()
    entries = [
        tl.SessionStarted(now, "s", "Local", "local"),
        tl.TaskStarted(now, "s", "t", "Do it", tl.TaskOrigin.HAND_BACK),
        tl.AgentStep(now, "s", StepReport("t", 2, "Goal", "https://x", "ok", "mem", ("a", "b"), "file:///x.png", 1.5)),
        tl.Handoff(now, "s", tl.Actor.PERSON, tl.Actor.AGENT, "note", "reason", "next", fault=True),
        tl.Handoff(now, "s", tl.Actor.NOBODY, tl.Actor.PERSON, "note only"),
        tl.TaskFinished(now, "s", RunResult("t", RunStatus.STOPPED, "out", None, Decimal("0.1234"), 3)),
        tl.Incident(now, "s", "Something broke"),
        tl.SessionEnded(now, "s", "Stopped by you"),
    ]
    for entry in entries:
        assert tl.entry_from_dict(json.loads(json.dumps(tl.entry_to_dict(entry)))) == entry


def test_open_sessions_are_those_never_seen_to_end(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.sqlite3")
    store.record(tl.SessionStarted(1.0, "cloud-1", "Browser Use Cloud", "cloud"))
    store.record(tl.SessionStarted(2.0, "cloud-2", "Browser Use Cloud", "cloud"))
    store.record(tl.SessionStarted(3.0, "local-1", "Local", "local"))
    store.record(tl.SessionEnded(4.0, "cloud-2", "Stopped by you"))
    assert [s.id for s in store.open_sessions("cloud")] == ["cloud-1"]
    store.mark_ended("cloud-1", "Stopped after a restart")
    assert store.open_sessions("cloud") == []


def test_a_v2_history_without_kinds_gets_them(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    old = sqlite3.connect(path)
    # Schema 2 as early builds made it: the columns, but no backfill of the kind.
    old.executescript(
        MIGRATIONS[0]
        + """
        ALTER TABLE sessions ADD COLUMN backend_kind TEXT NOT NULL DEFAULT '';
        ALTER TABLE sessions ADD COLUMN total_cost TEXT NOT NULL DEFAULT '0';
        CREATE INDEX sessions_open ON sessions(backend_kind) WHERE ended_at IS NULL;
        PRAGMA user_version = 2;
        """
    )
    old.execute("INSERT INTO sessions (id, backend, started_at) VALUES ('c', 'Browser Use Cloud', 1.0)")
    old.execute("INSERT INTO sessions (id, backend, started_at) VALUES ('l', 'Local', 2.0)")
    old.commit()
    old.close()
    store = HistoryStore.open(path)
    assert [s.id for s in store.open_sessions("cloud")] == ["c"]
    assert [s.id for s in store.open_sessions("local")] == ["l"]


def test_an_old_schema_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    old.execute("INSERT INTO sessions (id, backend, started_at) VALUES ('old', 'Browser Use Cloud', 1.0)")
    old.execute(
        "INSERT INTO events (session_id, at, kind, data) VALUES ('old', 1.0, 'SessionStarted', ?)",
        (json.dumps(tl.entry_to_dict(tl.SessionStarted(1.0, "old", "Browser Use Cloud"))),),
    )
    old.commit()
    old.close()
    store = HistoryStore.open(path)
    assert store.problem is None and not store.read_only
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [s.id for s in store.sessions()] == ["old"]
    assert store.entries("old")[0].backend == "Browser Use Cloud"
    assert store.session("old").backend_kind == "cloud"
    assert [s.id for s in store.open_sessions("cloud")] == ["old"]  # a v1 session left open is still found


def test_a_damaged_file_is_kept_aside_and_a_new_history_started(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not a database at all" * 100)
    store = HistoryStore.open(path, clock=lambda: 0.0)
    assert "kept aside" in store.problem and not store.read_only
    aside = list(tmp_path.glob("h.sqlite3.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not a database")
    store.record(tl.SessionStarted(1.0, "s", "Local", "local"))
    assert [s.id for s in store.sessions()] == ["s"]


def test_a_history_from_a_newer_version_is_read_only(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    HistoryStore.open(path).record(tl.SessionStarted(1.0, "s", "Local", "local"))
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 99")
    store = HistoryStore.open(path)
    assert store.read_only and "newer version" in store.problem
    store.record(tl.SessionStarted(2.0, "t", "Local", "local"))
    assert [s.id for s in store.sessions()] == ["s"]


def test_a_locked_history_is_read_only_for_the_run(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    HistoryStore.open(path).record(tl.SessionStarted(1.0, "s", "Local", "local"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program is writing
    try:
        started = time.monotonic()
        store = HistoryStore.open(path)
        assert time.monotonic() - started < 10
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.read_only and "in use by another program" in store.problem
    assert [s.id for s in store.sessions()] == ["s"]


def test_a_failing_write_is_reported_once(tmp_path: Path) -> None:
    bus = EventBus()
    store = HistoryStore.open(tmp_path / "h.sqlite3")
    notices = attached(store, bus)
    store._db.execute("PRAGMA query_only = ON")  # every write now fails, like a full disk
    for number in range(3):
        store.record(tl.Incident(float(number), "s", "x"))
    assert len(notices) == 1 and "could not save" in notices[0].text


def sample_entries() -> list[tl.Entry]:
    return [
        tl.SessionStarted(100.0, "s1", "Browser Use Cloud", "cloud"),
        tl.TaskStarted(101.0, "s1", "t1", "Buy the mug", tl.TaskOrigin.RUN),
        tl.AgentStep(102.0, "s1", StepReport("t1", 1, "Open the shop", "https://shop", screenshot_url="https://s3/signed?X-Amz-Signature=abc")),
        tl.TaskFinished(103.0, "s1", RunResult("t1", RunStatus.STOPPED)),
        tl.Handoff(103.5, "s1", tl.Actor.PERSON, tl.Actor.PERSON),
        tl.Handoff(110.0, "s1", tl.Actor.AGENT, tl.Actor.PERSON, note="Typed <script>alert(1)</script> and bu_export_secret_123456"),
        tl.TaskStarted(110.2, "s1", "t2", "Continue", tl.TaskOrigin.HAND_BACK),
        tl.SessionEnded(120.0, "s1", "Stopped by you"),
    ]


def test_control_periods_say_who_had_the_browser_when() -> None:
    periods = [(p.actor, p.start, p.end) for p in control_periods(sample_entries())]
    assert periods == [("nobody", 100.0, 101.0), ("agent", 101.0, 103.0), ("nobody", 103.0, 103.5), ("person", 103.5, 110.0), ("agent", 110.0, 120.0)]


@pytest.fixture
def time_zone(monkeypatch: pytest.MonkeyPatch):
    """Set this process's local time zone for one test (and put it back after)."""

    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_zone
    monkeypatch.undo()
    time.tzset()


def test_exports_carry_the_trail_and_no_secrets(time_zone) -> None:
    time_zone("Europe/Lisbon")  # UTC+1 in 1970
    redactor.add_secret("bu_export_secret_123456")
    session = HistoryStoreStub.record()
    trail = build(session, sample_entries())
    text = to_json(trail)
    assert json.loads(text)["format"] == "handoff-audit-trail"
    assert "bu_export_secret_123456" not in text and "X-Amz-Signature" not in text and "screenshot_url" not in text
    page = to_html(trail)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "bu_export_secret_123456" not in page and "X-Amz-Signature" not in page
    assert page.count("<tr class=") == 5 and "You handed back to the agent" in page
    assert "http" not in page.split("<body>")[1].replace("https://shop", "")  # nothing loaded from anywhere
    assert "1970-01-01 01:01:40" in page and "T00:01:40" not in page  # times as people read them: local
    assert "local times, UTC+01:00" in page
    assert json.loads(text)["session"]["started_at"] == "1970-01-01T00:01:40.000Z"  # JSON stays in UTC
    assert "cost $0.04" in page


class HistoryStoreStub:
    @staticmethod
    def record():
        from desktop_app.core.store import SessionRecord

        return SessionRecord("s1", "Browser Use Cloud", "cloud", 100.0, 120.0, "Stopped by you", Decimal("0.04"), 2)


@pytest.mark.parametrize("bad", [b"", b"SQLite format 3\x00" + b"\xff" * 200])
def test_empty_or_truncated_files_do_not_stop_the_app(tmp_path: Path, bad: bytes) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(bad)
    store = HistoryStore.open(path)
    store.record(tl.SessionStarted(1.0, "s", "Local", "local"))
    assert [s.id for s in store.sessions()] == ["s"]


def test_a_disk_error_leaves_the_history_file_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "h.sqlite3"
    HistoryStore.open(path).record(tl.SessionStarted(1.0, "s", "Local", "local"))
    before = path.read_bytes()
    import desktop_app.core.store as store_module

    def full_disk(path: Path) -> sqlite3.Connection:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store_module, "_connect_writable", full_disk)
    store = HistoryStore.open(path)
    assert store.read_only and "could not be written (database or disk is full)" in store.problem
    assert not list(tmp_path.glob("*.damaged-*")) and path.read_bytes() == before
    assert [s.id for s in store.sessions()] == ["s"]


def test_a_hand_back_with_nothing_to_run_leaves_nobody_in_control() -> None:
    entries = [
        tl.SessionStarted(0.0, "s", "Cloud", "cloud"),
        tl.Handoff(1.0, "s", tl.Actor.PERSON, tl.Actor.PERSON),
        tl.Handoff(2.0, "s", tl.Actor.NOBODY, tl.Actor.PERSON),
    ]
    assert [(p.actor, p.end) for p in control_periods(entries)] == [("nobody", 1.0), ("person", 2.0), ("nobody", None)]


def test_a_session_is_listed_with_the_first_task_the_person_gave(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "h.sqlite3")
    store.record(tl.SessionStarted(1.0, "s", "Local", "local"))
    store.record(tl.TaskStarted(2.0, "s", "k", "keep-alive", tl.TaskOrigin.KEEP_ALIVE))
    store.record(tl.TaskStarted(3.0, "s", "t1", "Buy the blue mug", tl.TaskOrigin.RUN))
    store.record(tl.TaskStarted(4.0, "s", "t2", "Continue with the note", tl.TaskOrigin.HAND_BACK))
    store.record(tl.TaskStarted(5.0, "s", "t3", "Then print the receipt", tl.TaskOrigin.RUN))
    store.record(tl.SessionStarted(6.0, "empty", "Local", "local"))
    by_id = {s.id: s for s in store.sessions()}
    assert by_id["s"].first_task == "Buy the blue mug" and by_id["s"].tasks == 4
    assert by_id["empty"].first_task == ""


def test_a_damaged_task_row_does_not_hide_the_session(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = HistoryStore.open(path)
    store.record(tl.SessionStarted(1.0, "s", "Local", "local"))
    with sqlite3.connect(path) as db:  # as a half-written row from a crash would look
        db.execute("INSERT INTO events (session_id, at, kind, data) VALUES ('s', 2.0, 'TaskStarted', '{\"text\": \"Bu')")
    store.record(tl.TaskStarted(3.0, "s", "t", "Buy the blue mug", tl.TaskOrigin.RUN))
    reopened = HistoryStore.open(path)
    assert [(s.id, s.first_task) for s in reopened.sessions()] == [("s", "Buy the blue mug")]
    assert [s.id for s in reopened.open_sessions("local")] == ["s"]


def test_a_session_across_a_summer_time_change_shows_each_offset(time_zone) -> None:
    from dataclasses import replace

    time_zone("Europe/Berlin")
    # 2026-03-29 00:30 UTC is 01:30 CET; two hours later it is 04:30 CEST.
    start = 1774744200.0
    session = replace(HistoryStoreStub.record(), started_at=start, ended_at=start + 7200)
    entries = [tl.SessionStarted(start, "s1", "Local", "local"), tl.SessionEnded(start + 7200, "s1", "Stopped by you")]
    page = to_html(build(session, entries))
    assert "2026-03-29 01:30:00 UTC+01:00" in page and "2026-03-29 04:30:00 UTC+02:00" in page
    assert "(local times)" in page


def test_an_export_is_titled_by_the_sessions_first_task() -> None:
    from dataclasses import replace

    session = replace(HistoryStoreStub.record(), first_task="Buy two <blue> mugs\nand ship them")
    trail = build(session, sample_entries())
    assert trail["session"]["first_task"] == "Buy two <blue> mugs\nand ship them"
    page = to_html(trail)
    assert "<title>Handoff audit trail — Buy two &lt;blue&gt; mugs and ship them</title>" in page
    assert '<p class="task">First task: Buy two &lt;blue&gt; mugs\nand ship them</p>' in page
    untitled = to_html(build(HistoryStoreStub.record(), sample_entries()))
    assert "<title>Handoff audit trail — session s1</title>" in untitled and 'class="task"' not in untitled
