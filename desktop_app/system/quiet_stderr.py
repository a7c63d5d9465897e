"""A terminal that started Handoff sees nothing unless something is wrong.

Chromium (inside QtWebEngine) writes to the process's stderr itself, below Python: "DevTools
listening on ws://…" (the Local agent's DevTools port, printed unconditionally) and the blank line
before it. File descriptor 2 goes through a pipe whose reader passes every other line on
unchanged. Installed only for the plain, non-debug terminal output (--json-logging and --debug
show everything); crash dumps go to their own file (crash.py), not through here.
"""

from __future__ import annotations

import os
import re
import sys
import threading

NOISE = (
    re.compile(rb"^\s*$"),
    re.compile(rb"^DevTools listening on ws://"),
    # Chromium's own log lines about the system bus a desktop may not have (also silenced by
    # --log-level, see early_init; child processes started before that applies still print them).
    re.compile(rb"^\[\d+:\d+:\d+/\d+\.\d+:(ERROR|WARNING):[^\]]*dbus/"),
)


def _write(terminal: int, data: bytes) -> None:
    """A terminal that went away (closed window, EIO) must not stop the reading: a full pipe would
    block every write to stderr, the window's thread included. What cannot be shown is dropped."""
    try:
        os.write(terminal, data)
    except OSError:
        pass


class QuietStderr:
    def __init__(self) -> None:
        self._terminal: int | None = None
        self._pump: threading.Thread | None = None

    def install(self) -> None:
        if self._terminal is not None:
            return
        sys.stderr.flush()
        self._terminal = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        self._pump = threading.Thread(target=self._forward, args=(read_end,), name="quiet-stderr", daemon=True)
        self._pump.start()

    def _forward(self, read_end: int) -> None:
        terminal = self._terminal
        assert terminal is not None
        with os.fdopen(read_end, "rb", buffering=0) as source:
            pending = b""
            while chunk := source.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if not any(pattern.search(line) for pattern in NOISE):
                        _write(terminal, line + b"\n")
            if pending and not any(pattern.search(pending) for pattern in NOISE):
                _write(terminal, pending)

    def uninstall(self, wait: float = 1.0) -> None:
        """Put the terminal back, after passing on what is still in the pipe."""
        if self._terminal is None:
            return
        sys.stderr.flush()
        os.dup2(self._terminal, 2)  # closes the pipe's write end held by fd 2
        if self._pump is not None:
            self._pump.join(wait)  # a child process may still hold the pipe: do not wait for it
        self._terminal = None
