"""Showing a folder in the system's file manager."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices


def open_folder(folder: Path) -> bool:
    """False when the system has no file manager to show it in (the caller says where it is)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
