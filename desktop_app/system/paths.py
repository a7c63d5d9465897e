"""Every file location the app uses, in one place.

Normal runs follow the platform's conventions (XDG on Linux, %APPDATA% on Windows, Application
Support on macOS). ``--basedir DIR`` puts everything under DIR; ``--temp-basedir`` does the same
in a fresh temporary directory that is removed at exit (tests, smoke runs).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from desktop_app import APP_ID


@dataclass(frozen=True)
class Paths:
    config: Path
    data: Path
    cache: Path
    downloads: Path
    exports: Path  # where History suggests saving audit trails
    temporary: bool = False

    @property
    def logs(self) -> Path:
        return self.data / "logs"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    @property
    def vault_file(self) -> Path:
        """The vault's entry names and sites and the site rules (never a value: those are in the keychain)."""
        return self.config / "vault.json"

    @property
    def playbooks_file(self) -> Path:
        """Saved queues (playbooks), versioned JSON the person can read (core/playbooks.py)."""
        return self.config / "playbooks.json"

    @property
    def window_geometry(self) -> Path:
        """The main window's size and place on screen when it was last closed (Qt's own format)."""
        return self.config / "window-geometry"

    @property
    def database(self) -> Path:
        return self.data / "history.sqlite3"

    @property
    def crash_dir(self) -> Path:
        return self.data / "crashes"

    @property
    def browser_profile(self) -> Path:
        """Persistent storage of the local browser (site logins survive restarts)."""
        return self.data / "browser-profile"

    @property
    def browser_cache(self) -> Path:
        return self.cache / "browser"

    def session_browser_profile(self, number: int) -> tuple[Path, Path]:
        """Storage and cache of the built-in browser for the window's session ``number``: the first
        session's are the ones above; each other session has its own (its logins kept as its own)."""
        if number == 1:
            return self.browser_profile, self.browser_cache
        return self.data / f"browser-profile-{number}", self.cache / f"browser-{number}"

    def all_browser_profiles(self) -> list[Path]:
        """The storage of every session's browser profile on disk, open now or not."""
        return [self.browser_profile, *sorted(self.data.glob("browser-profile-*"))]

    @property
    def screenshots(self) -> Path:
        return self.cache / "screenshots"

    def ensure(self) -> Paths:
        """Create the app's own folders, readable by this user only (0700): history, logs, the
        browser profile and screenshots are private (an earlier version's folders are tightened)."""
        for directory in (self.config, self.data, self.cache, self.logs):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if sys.platform != "win32":
                directory.chmod(0o700)
        return self

    def remove_if_temporary(self) -> None:
        if self.temporary:
            import shutil

            shutil.rmtree(self.config.parent, ignore_errors=True)

    @classmethod
    def under(cls, base: Path, *, temporary: bool = False) -> Paths:
        base = base.resolve()
        return cls(
            config=base / "config",
            data=base / "data",
            cache=base / "cache",
            downloads=base / "downloads",
            exports=base / "exports",
            temporary=temporary,
        )

    @classmethod
    def temporary_base(cls) -> Paths:
        import tempfile

        return cls.under(Path(tempfile.mkdtemp(prefix=f"{APP_ID}-")), temporary=True)

    @classmethod
    def standard(cls) -> Paths:
        home = Path.home()
        if sys.platform == "win32":
            roaming = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
            local = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
            config, data, cache = roaming / "Handoff", local / "Handoff", local / "Handoff" / "Cache"
        elif sys.platform == "darwin":
            support = home / "Library" / "Application Support" / "Handoff"
            config, data, cache = support, support, home / "Library" / "Caches" / "Handoff"
        else:
            config = _xdg("XDG_CONFIG_HOME", home / ".config") / APP_ID
            data = _xdg("XDG_DATA_HOME", home / ".local" / "share") / APP_ID
            cache = _xdg("XDG_CACHE_HOME", home / ".cache") / APP_ID
        return cls(config=config, data=data, cache=cache, downloads=user_downloads_dir(), exports=user_documents_dir())

    @classmethod
    def from_options(cls, *, basedir: str | None, temp_basedir: bool) -> Paths:
        if temp_basedir:
            return cls.temporary_base()
        if basedir:
            return cls.under(Path(basedir).expanduser())
        return cls.standard()


def _xdg(variable: str, default: Path) -> Path:
    value = os.environ.get(variable, "")
    # The XDG spec says relative paths are invalid and must be ignored.
    return Path(value) if value and os.path.isabs(value) else default


def user_downloads_dir() -> Path:
    return _user_dir("XDG_DOWNLOAD_DIR", "Downloads")


def user_documents_dir() -> Path:
    return _user_dir("XDG_DOCUMENTS_DIR", "Documents")


def _user_dir(xdg_name: str, usual_name: str) -> Path:
    home = Path.home()
    if sys.platform.startswith("linux"):
        configured = _xdg_user_dir(xdg_name, home)
        if configured:
            return configured
    return home / usual_name


def _xdg_user_dir(name: str, home: Path) -> Path | None:
    dirs_file = _xdg("XDG_CONFIG_HOME", home / ".config") / "user-dirs.dirs"
    try:
        lines = dirs_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == name:
            value = value.strip().strip('"').replace("$HOME", str(home))
            return Path(value) if os.path.isabs(value) else None
    return None


def resources_dir() -> Path:
    """The app's bundled resources: next to the package in a checkout, inside the bundle when frozen."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"
