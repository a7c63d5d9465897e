"""Folders browser-use leaves in the temporary directory.

browser-use gives every browser profile it builds a downloads folder of its own in the system's
temporary directory (``browser-use-downloads-XXXXXXXX``) and never removes it. Handoff's downloads
go to the person's Downloads folder instead, so the ones created while a Local session ran are
removed when it ends — only when empty, so nothing anyone saved there is lost.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

PATTERN = "browser-use-downloads-*"


class TempDownloadsSweeper:
    def __init__(self, temp_dir: Path | None = None) -> None:
        self._temp_dir = temp_dir or Path(tempfile.gettempdir())
        self._before: set[Path] | None = None

    def _present(self) -> set[Path]:
        try:
            return {path for path in self._temp_dir.glob(PATTERN) if path.is_dir()}
        except OSError:
            return set()

    def session_started(self) -> None:
        if self._before is None:
            self._before = self._present()

    def sweep(self) -> list[Path]:
        """Remove the empty folders that appeared since the session started; returns them."""
        if self._before is None:
            return []
        removed = []
        for path in sorted(self._present() - self._before):
            try:
                path.rmdir()  # only if empty
            except OSError:
                continue
            removed.append(path)
        self._before = None
        return removed
