"""Environment that must be set before Qt, QtWebEngine or browser-use is imported.

- Chromium's sandbox cannot run as root (CI, containers): disable it only then.
- QtWebEngine reads its DevTools (CDP) address once, at start: the local agent drives the
  embedded view through it, on loopback and a random free port. Anyone on this computer can use
  that port, so it is opened only for a run that starts in Local mode (see BackendKind.needs_devtools).
- browser-use phones home and reconfigures logging on import unless told not to.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

REMOTE_DEBUGGING = "QTWEBENGINE_REMOTE_DEBUGGING"
CHROMIUM_FLAGS = "QTWEBENGINE_CHROMIUM_FLAGS"
# Chromium switches that would open a DevTools endpoint of their own (QtWebEngine honours the port).
DEVTOOLS_SWITCHES = ("--remote-debugging-port", "--remote-debugging-pipe", "--remote-debugging-address")

QUIET_BROWSER_USE = {
    "ANONYMIZED_TELEMETRY": "false",
    "BROWSER_USE_VERSION_CHECK": "false",
    "BROWSER_USE_DISABLE_EXTENSIONS": "1",
    "BROWSER_USE_SETUP_LOGGING": "false",
    "BROWSER_USE_CLOUD_SYNC": "false",
    "BROWSER_USE_CLOUD_HINTS": "false",
}


class EarlyInit:
    # A plain class: importing dataclasses here would put ~5 ms on the path to the first paint.
    def __init__(self, devtools_port: int | None) -> None:
        self.devtools_port = devtools_port  # None: no DevTools port in this run

    @property
    def devtools_url(self) -> str | None:
        return f"http://127.0.0.1:{self.devtools_port}" if self.devtools_port is not None else None


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


QUIET_CHROMIUM = "--log-level=3"  # Chromium's own log lines: fatal ones only (no dbus "ERROR"s on desktops without one)


def prepare_environment(
    browser_use_dir: Path | None = None, *, open_devtools: bool = True, quiet_chromium: bool = False
) -> EarlyInit:
    if "PySide6.QtWebEngineCore" in sys.modules:
        raise RuntimeError("prepare_environment() must run before QtWebEngine is imported")
    if running_as_root():
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    flags = os.environ.get(CHROMIUM_FLAGS, "")
    if quiet_chromium and "--log-level" not in flags:
        os.environ[CHROMIUM_FLAGS] = f"{flags} {QUIET_CHROMIUM}".strip()
    for name, value in QUIET_BROWSER_USE.items():
        os.environ[name] = value
    if browser_use_dir is not None:
        # browser-use keeps a config directory; keep it inside ours, not in ~/.config.
        os.environ["BROWSER_USE_CONFIG_DIR"] = str(browser_use_dir)
    if not open_devtools:
        _close_devtools()
        return EarlyInit(devtools_port=None)
    return EarlyInit(devtools_port=_devtools_port())


def _close_devtools() -> None:
    """No DevTools endpoint at all, whatever this process inherited (a launcher, a developer's shell)."""
    os.environ.pop(REMOTE_DEBUGGING, None)
    flags = os.environ.get(CHROMIUM_FLAGS)
    if flags:
        kept = [flag for flag in flags.split() if not flag.startswith(DEVTOOLS_SWITCHES)]
        os.environ[CHROMIUM_FLAGS] = " ".join(kept)


def _devtools_port() -> int:
    configured = os.environ.get(REMOTE_DEBUGGING, "")
    host, _, port = configured.rpartition(":")
    if host == "127.0.0.1" and port.isdigit():
        return int(port)
    chosen = free_loopback_port()
    # Loopback only: never reachable from another machine.
    os.environ[REMOTE_DEBUGGING] = f"127.0.0.1:{chosen}"
    return chosen


def check_dependencies() -> str | None:
    """A message for the user when the installation is broken, else None."""
    try:
        import PySide6.QtWebEngineWidgets  # noqa: F401
    except ImportError as error:
        return (
            "Handoff cannot start: its embedded browser (Qt WebEngine) is missing or broken.\n"
            f"Details: {error}\nReinstall Handoff to repair it."
        )
    return None
