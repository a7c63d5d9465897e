"""The session history: SQLite (stdlib, WAL), written as things happen.

Every timeline entry is committed the moment the core records it, so a crash loses at most the
event in flight. The schema is versioned (``PRAGMA user_version``) and migrated forward in order.
A database that cannot be used never stops the app: a corrupt file is kept aside and a fresh one
started; a locked one, or one from a newer Handoff, is opened read-only; ``problem`` says so.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from desktop_app.core import timeline as tl
from desktop_app.core.cards import redact_cards
from desktop_app.core.events import Level, Notice, SessionCreateSettled, SessionCreating, TimelineAdded

log = logging.getLogger(__name__)

# Each migration takes the schema from version N to N+1; never edit one that has shipped.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        backend TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        end_reason TEXT
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX events_by_session ON events(session_id, seq);
    """,
    """
    ALTER TABLE sessions ADD COLUMN backend_kind TEXT NOT NULL DEFAULT '';
    ALTER TABLE sessions ADD COLUMN total_cost TEXT NOT NULL DEFAULT '0';
    UPDATE sessions SET backend_kind = CASE WHEN backend LIKE '%Cloud%' THEN 'cloud' ELSE 'local' END;
    CREATE INDEX sessions_open ON sessions(backend_kind) WHERE ended_at IS NULL;
    """,
    # Early builds ran migration 2 without its backfill: their open sessions had no kind, so a
    # Cloud session left running was never offered for Reattach.
    """
    UPDATE sessions SET backend_kind = CASE WHEN backend LIKE '%Cloud%' THEN 'cloud' ELSE 'local' END
    WHERE backend_kind = '';
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
BUSY_TIMEOUT_SECONDS = 2.0


UNCONFIRMED_PREFIX = "unconfirmed-"  # a history marker: a session may have started unseen (its answer lost)


@dataclass(frozen=True)
class SessionRecord:
    id: str
    backend: str
    backend_kind: str
    started_at: float
    ended_at: float | None
    end_reason: str | None
    total_cost: Decimal
    tasks: int
    first_task: str = ""  # what the person first asked for: how they recognise the session


class HistoryStore:
    def __init__(self, connection: sqlite3.Connection | None, *, read_only: bool, problem: str | None) -> None:
        self._db = connection
        self.read_only = read_only
        self.problem = problem  # for the user, once: what went wrong and what was done about it
        self._notify: Callable[[Notice], None] | None = None
        self._write_failed = False

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, clock: Callable[[], float] = time.time) -> HistoryStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return cls(_connect_writable(path), read_only=False, problem=None)
        except NewerSchema as error:
            return cls._read_only(path, f"Your history was written by a newer version of Handoff (schema {error.version}); it is shown read-only and nothing new is saved.")
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                return cls._read_only(path, "Your history is in use by another program, so it is read-only for this run; nothing new is saved.")
            # Disk full, I/O errors, permissions: the file may be fine, so it is left exactly as it is.
            return cls._read_only(path, f"Your history could not be written ({error}); it is read-only for this run.")
        except sqlite3.DatabaseError as error:
            # "file is not a database", "database disk image is malformed": the file itself is damaged.
            return cls._fresh_after_damage(path, error, clock)

    @classmethod
    def _read_only(cls, path: Path, problem: str) -> HistoryStore:
        log.warning("History opened read-only: %s", problem)
        try:
            connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
            connection.execute("SELECT count(*) FROM sessions").fetchone()
        except sqlite3.Error:
            return cls(None, read_only=True, problem=problem)
        return cls(connection, read_only=True, problem=problem)

    @classmethod
    def _fresh_after_damage(cls, path: Path, error: Exception, clock: Callable[[], float]) -> HistoryStore:
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S', time.localtime(clock()))}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{path}{suffix}")
            if part.exists():
                part.replace(Path(f"{aside}{suffix}"))
        log.warning("History database unusable (%s); kept aside as %s", error, aside.name)
        try:
            connection = _connect_writable(path)
        except sqlite3.Error as second:
            return cls(None, read_only=True, problem=f"Your history could not be started ({second}); nothing is saved this run.")
        return cls(
            connection,
            read_only=False,
            problem=f"Your history file was damaged; it has been kept aside as {aside.name} and a new history started.",
        )

    # -- writing, as an observer of the core -------------------------------------------------

    def attach(self, subscribe: Callable[[Callable[[Any], None]], Any], notify: Callable[[Notice], None]) -> None:
        self._notify = notify
        subscribe(self._on_event)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, TimelineAdded):
            self.record(event.entry)
        elif isinstance(event, SessionCreating):
            self._write(
                "INSERT OR IGNORE INTO sessions (id, backend, backend_kind, started_at) VALUES (?, ?, ?, ?)",
                (event.marker, event.backend, event.backend_kind, event.asked_at),
            )
        elif isinstance(event, SessionCreateSettled):
            self._write("DELETE FROM sessions WHERE id = ?", (event.marker,))

    def _write(self, statement: str, parameters: tuple[Any, ...]) -> None:
        if self._db is None or self.read_only:
            return
        try:
            with self._db:
                self._db.execute(statement, parameters)
        except sqlite3.Error as error:
            self._report_write_failure(error)

    def record(self, entry: tl.Entry) -> None:
        if self._db is None or self.read_only or not entry.session_id:
            return
        try:
            with self._db:  # one transaction, committed now
                if isinstance(entry, tl.SessionStarted):
                    self._db.execute(
                        "INSERT OR IGNORE INTO sessions (id, backend, backend_kind, started_at) VALUES (?, ?, ?, ?)",
                        (entry.session_id, entry.backend, entry.backend_kind, entry.at),
                    )
                self._db.execute(
                    "INSERT INTO events (session_id, at, kind, data) VALUES (?, ?, ?, ?)",
                    (entry.session_id, entry.at, entry.kind, json.dumps(tl.map_strings(tl.entry_to_dict(entry), redact_cards), ensure_ascii=False)),
                )
                if isinstance(entry, tl.SessionEnded):
                    self._db.execute(
                        "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?",
                        (entry.at, entry.reason, entry.session_id),
                    )
                elif isinstance(entry, tl.TaskFinished) and entry.result.cost_usd is not None:
                    (total,) = self._db.execute("SELECT total_cost FROM sessions WHERE id = ?", (entry.session_id,)).fetchone() or ("0",)
                    self._db.execute(
                        "UPDATE sessions SET total_cost = ? WHERE id = ?",
                        (str(Decimal(total) + entry.result.cost_usd), entry.session_id),
                    )
        except sqlite3.Error as error:
            self._report_write_failure(error)

    def mark_ended(self, session_id: str, reason: str, at: float | None = None) -> None:
        """For sessions ended outside a running app (stopped after recovery)."""
        if self._db is None or self.read_only:
            return
        try:
            with self._db:
                self._db.execute(
                    "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL",
                    (at if at is not None else time.time(), reason, session_id),
                )
        except sqlite3.Error as error:
            self._report_write_failure(error)

    def _report_write_failure(self, error: sqlite3.Error) -> None:
        log.error("Could not save to the history: %s", error)
        if not self._write_failed and self._notify is not None:
            self._write_failed = True  # say it once, not at every step
            self._notify(
                Notice(Level.WARNING, f"Handoff could not save the session history ({error}). Check the free disk space.")
            )

    # -- reading -------------------------------------------------------------------------------

    def sessions(self, limit: int = 500) -> list[SessionRecord]:
        """What History lists: sessions, not the markers of starts still being looked into."""
        return self._sessions_where("s.id NOT LIKE ?", (f"{UNCONFIRMED_PREFIX}%",), limit)

    def _sessions_where(self, condition: str, parameters: tuple[Any, ...], limit: int) -> list[SessionRecord]:
        if self._db is None:
            return []
        rows = self._db.execute(
            f"""
            SELECT s.id, s.backend, s.backend_kind, s.started_at, s.ended_at, s.end_reason, s.total_cost,
                   (SELECT count(*) FROM events e WHERE e.session_id = s.id AND e.kind = 'TaskStarted'),
                   (SELECT COALESCE(NULLIF(json_extract(e.data, '$.goal'), ''), json_extract(e.data, '$.text')) FROM events e
                    WHERE e.session_id = s.id AND e.kind = 'TaskStarted'
                      -- CASE, not AND: only CASE is sure to skip a damaged row before reading it
                      AND CASE WHEN json_valid(e.data) THEN json_extract(e.data, '$.origin') END = 'run'
                    ORDER BY e.seq LIMIT 1)
            FROM sessions s WHERE {condition} ORDER BY s.started_at DESC LIMIT ?
            """,
            (*parameters, limit),
        ).fetchall()
        return [SessionRecord(r[0], r[1], r[2], r[3], r[4], r[5], Decimal(r[6] or "0"), r[7], r[8] or "") for r in rows]

    def session(self, session_id: str) -> SessionRecord | None:
        return next(iter(self._sessions_where("s.id = ?", (session_id,), 1)), None)

    def entries(self, session_id: str) -> list[tl.Entry]:
        if self._db is None:
            return []
        rows = self._db.execute("SELECT data FROM events WHERE session_id = ? ORDER BY seq", (session_id,)).fetchall()
        return _entries_from_rows(rows)

    async def entries_in_background(self, session_id: str) -> list[tl.Entry]:
        """``entries``, read and decoded in a worker thread on a connection of its own (a session can
        hold tens of thousands of entries: ~1 s the window must not wait for)."""
        if self._db is None:
            return []
        path = self._db.execute("PRAGMA database_list").fetchone()[2]
        if not path:
            return self.entries(session_id)  # an in-memory database has no second connection

        def read() -> list[tl.Entry]:
            connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
            try:
                rows = connection.execute("SELECT data FROM events WHERE session_id = ? ORDER BY seq", (session_id,)).fetchall()
            finally:
                connection.close()
            return _entries_from_rows(rows)

        return await asyncio.to_thread(read)

    def open_sessions(self, backend_kind: str) -> list[SessionRecord]:
        """Sessions of this kind that were never seen to end (crash, kill, or kept running)."""
        return self._sessions_where("s.ended_at IS NULL AND s.backend_kind = ?", (backend_kind,), 10_000)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class NewerSchema(sqlite3.DatabaseError):
    def __init__(self, version: int) -> None:
        super().__init__(f"schema version {version} is newer than {SCHEMA_VERSION}")
        self.version = version


def _entries_from_rows(rows: list[tuple[str]]) -> list[tl.Entry]:
    entries = []
    for (data,) in rows:
        try:
            entries.append(tl.entry_from_dict(json.loads(data)))
        except (ValueError, KeyError, TypeError) as error:
            log.warning("Skipped an unreadable history entry: %s", error)
    return entries


def _connect_writable(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise NewerSchema(version)
        connection.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: a committed event survives the app crashing (not a power cut mid-write).
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        _migrate(connection, version)
        connection.execute("SELECT count(*) FROM sessions").fetchone()
        # Can we write at all, or does another program hold the write lock?
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
    except BaseException:
        connection.close()
        raise
    return connection


def _migrate(connection: sqlite3.Connection, version: int) -> None:
    for number in range(version, SCHEMA_VERSION):
        log.info("Migrating the history to schema %d", number + 1)
        connection.executescript(f"BEGIN; {MIGRATIONS[number]} PRAGMA user_version = {number + 1}; COMMIT;")
