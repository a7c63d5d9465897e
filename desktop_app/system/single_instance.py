"""One Handoff per data directory: a second launch brings the first window forward and exits.

A local socket named after the data directory (and the user) is the meeting point. A socket left
behind by a crashed instance is taken over, but only after checking nobody answers on it.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

ACTIVATE = b"activate\n"
CONNECT_TIMEOUT_MS = 500


def server_name(data_dir: Path) -> str:
    owner = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "")
    key = f"{owner}:{data_dir.resolve()}".encode()
    # zlib, not hashlib: loading OpenSSL would cost startup time for a name that needs no security.
    digest = f"{zlib.crc32(key):08x}{zlib.adler32(key):08x}"
    return f"handoff-{digest}"


def ask_running_instance(name: str) -> bool:
    """True if another instance answered (and was asked to come to the front)."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    socket.write(ACTIVATE)
    socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    socket.disconnectFromServer()
    return True


class InstanceServer(QObject):
    def __init__(self, name: str, on_activate: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_activate = on_activate
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        if not self._server.listen(name):
            # Left behind by an instance that crashed (nobody answered before we got here).
            QLocalServer.removeServer(name)
            if not self._server.listen(name):
                log.warning("Could not claim the single-instance socket: %s", self._server.errorString())

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            connection = self._server.nextPendingConnection()
            connection.readyRead.connect(lambda c=connection: self._read(c))
            connection.disconnected.connect(connection.deleteLater)

    def _read(self, connection: QLocalSocket) -> None:
        if bytes(connection.readAll().data()).startswith(ACTIVATE.strip()):
            log.info("Another launch asked for this window")
            self._on_activate()

    def close(self) -> None:
        self._server.close()
