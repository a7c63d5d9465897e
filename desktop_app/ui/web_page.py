"""The live view's page and profiles.

- Every permission request (camera, microphone, location, notifications, …) is denied.
- New windows never take the view away: in the local browser they open in the same view (the
  agent cannot follow CDP targets QtWebEngine will not create); on a remote live view they are
  ignored, and main-frame navigation stays on the live view's origin.
- Page console output goes to our log at debug level, never to stderr.
- URLs are logged without query or fragment (the live URL is a credential).
"""

from __future__ import annotations

import logging
import shutil
import zlib
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtWebEngineCore import (
    QWebEngineDownloadRequest,
    QWebEngineNewWindowRequest,
    QWebEnginePage,
    QWebEnginePermission,
    QWebEngineProfile,
    QWebEngineProfileBuilder,
)

from desktop_app.core.redaction import safe_url
from desktop_app.ui.page_inspector import install_tracker

log = logging.getLogger(__name__)
js_log = logging.getLogger("handoff.page")

ALLOWED_SCHEMES = {"http", "https", "about", "data", "blob"}


_PERMISSION_WORDING = {
    "MediaAudioCapture": "use your microphone",
    "MediaVideoCapture": "use your camera",
    "MediaAudioVideoCapture": "use your camera and microphone",
    "DesktopVideoCapture": "see your screen",
    "DesktopAudioVideoCapture": "see and hear your screen",
    "Geolocation": "know your location",
    "Notifications": "show notifications",
    "ClipboardReadWrite": "read your clipboard",
    "LocalFontsAccess": "list your fonts",
    "MouseLock": "lock the mouse pointer",
}


class HandoffPage(QWebEnginePage):
    crashed = Signal(str)  # why the page's renderer went away
    blocked = Signal(str)  # a request the page made that Handoff refused, worded for the person

    def __init__(self, profile: QWebEngineProfile, *, is_browser: bool, resources: Path, parent: QObject | None = None):
        super().__init__(profile, parent)
        self.is_browser = is_browser
        self._resources = resources
        self.pinned_origin: str | None = None  # remote live view: navigation stays here
        self.permissionRequested.connect(self._deny_permission)
        self.newWindowRequested.connect(self._on_new_window)
        if is_browser:
            install_tracker(self)  # what the person types stays hidden from the agent (core/privacy.py)
        self.renderProcessTerminated.connect(self._on_render_process_terminated)

    def pin_to(self, url: str) -> None:
        self.pinned_origin = _origin(QUrl(url))

    def _deny_permission(self, permission: QWebEnginePermission) -> None:
        log.info("Denied a %s permission request from %s", permission.permissionType().name, safe_url(permission.origin().toString()))
        permission.deny()
        wanted = _PERMISSION_WORDING.get(permission.permissionType().name, "use a device or browser feature")
        self.blocked.emit(f"Handoff did not let {_host(permission.origin())} {wanted}.")

    def _on_new_window(self, request: QWebEngineNewWindowRequest) -> None:
        url = request.requestedUrl()
        if self.is_browser and url.scheme() in ("http", "https"):
            log.info("Opening a new-window request in the same view: %s", safe_url(url.toString()))
            self.setUrl(url)
        else:
            log.info("Ignored a new-window request to %s", safe_url(url.toString()))
            self.blocked.emit("The page tried to open a new window; Handoff keeps everything in this view, so it was not opened.")

    def acceptNavigationRequest(self, url: QUrl | str, navigation_type: QWebEnginePage.NavigationType, is_main_frame: bool) -> bool:
        url = QUrl(url)
        scheme = url.scheme()
        if scheme == "file":
            return self._is_resource(url)
        if scheme not in ALLOWED_SCHEMES:
            log.info("Blocked navigation to a %s: URL", scheme)
            return False
        if is_main_frame and not self.is_browser and self.pinned_origin:
            if _origin(url) != self.pinned_origin and scheme in ("http", "https"):
                log.info("Kept the live view from navigating to %s", safe_url(url.toString()))
                return False
        return True

    def _is_resource(self, url: QUrl) -> bool:
        try:
            Path(url.toLocalFile()).resolve().relative_to(self._resources.resolve())
        except ValueError:
            log.info("Blocked navigation to a local file outside Handoff's resources")
            return False
        return True

    def javaScriptConsoleMessage(self, level: QWebEnginePage.JavaScriptConsoleMessageLevel, message: str, line: int, source: str) -> None:
        js_log.debug("console(%s) %s:%d %s", level.name, safe_url(source), line, message)

    def _on_render_process_terminated(self, status: QWebEnginePage.RenderProcessTerminationStatus, exit_code: int) -> None:
        if status is QWebEnginePage.RenderProcessTerminationStatus.NormalTerminationStatus:
            return
        reason = {
            QWebEnginePage.RenderProcessTerminationStatus.CrashedTerminationStatus: "the page crashed",
            QWebEnginePage.RenderProcessTerminationStatus.KilledTerminationStatus: "the page was stopped by the system",
            QWebEnginePage.RenderProcessTerminationStatus.AbnormalTerminationStatus: "the page ended abnormally",
        }.get(status, "the page ended")
        log.warning("Renderer process terminated: %s (exit code %d)", reason, exit_code)
        self.crashed.emit(reason)


def _origin(url: QUrl) -> str:
    return f"{url.scheme()}://{url.authority()}"


def remote_view_profile(parent: QObject) -> QWebEngineProfile:
    """Off the record: a remote live view leaves nothing on disk."""
    profile = QWebEngineProfile(parent)
    profile.setPersistentPermissionsPolicy(QWebEngineProfile.PersistentPermissionsPolicy.AskEveryTime)
    profile.downloadRequested.connect(_refuse_download)
    return profile


WIPE_MARKER = ".forget-site-data"


def schedule_profile_wipe(storage: Path) -> None:
    storage.mkdir(parents=True, exist_ok=True)
    (storage / WIPE_MARKER).touch()


def browser_profile(storage: Path, cache: Path, parent: QObject) -> QWebEngineProfile:
    """The local browser's profile: site logins persist between runs under the data directory."""
    if (storage / WIPE_MARKER).exists():
        # Asked for in Settings last run; storage is free now, before the profile opens it.
        shutil.rmtree(storage, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
        log.info("Removed the local browser's stored site data, as asked")
    storage.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    builder = QWebEngineProfileBuilder()
    builder.setPersistentStoragePath(str(storage))
    builder.setCachePath(str(cache))
    builder.setPersistentCookiesPolicy(QWebEngineProfile.PersistentCookiesPolicy.ForcePersistentCookies)
    builder.setPersistentPermissionsPolicy(QWebEngineProfile.PersistentPermissionsPolicy.AskEveryTime)
    # The storage name must be unique per storage path within one process.
    name = f"handoff-{zlib.crc32(str(storage.resolve()).encode()):08x}"
    return builder.createProfile(name, parent)


def _refuse_download(download: QWebEngineDownloadRequest) -> None:
    log.info("Refused a download from the remote live view")
    download.cancel()


class DownloadKeeper(QObject):
    """Downloads in the local browser go to the user's Downloads folder, with a visible notice."""

    started = Signal(str, str)  # file name, folder
    finished = Signal(str, bool, str)  # file name, succeeded, folder

    def __init__(self, profile: QWebEngineProfile, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._folder = folder
        profile.downloadRequested.connect(self._accept)

    def _accept(self, download: QWebEngineDownloadRequest) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        download.setDownloadDirectory(str(self._folder))
        name = download.downloadFileName()
        download.isFinishedChanged.connect(lambda: self._done(download))
        download.accept()
        log.info("Downloading %s to %s", name, self._folder)
        self.started.emit(name, str(self._folder))

    def _done(self, download: QWebEngineDownloadRequest) -> None:
        if download.isFinished():
            succeeded = download.state() is QWebEngineDownloadRequest.DownloadState.DownloadCompleted
            self.finished.emit(download.downloadFileName(), succeeded, download.downloadDirectory())


def _host(origin: QUrl) -> str:
    return origin.host() or "a page"
