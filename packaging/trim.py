"""What the Handoff bundle leaves out of what PyInstaller's hooks collect (used by handoff.spec).

The app uses these PySide6 modules only: QtCore, QtGui, QtWidgets, QtNetwork, QtPrintSupport,
QtWebChannel, QtWebEngineCore, QtWebEngineWidgets, and QtQuick (with QtQml and QtOpenGL, which it
imports) to draw pages in software where OpenGL is only llvmpipe (``system/page_rendering.py``)
(measured: ``sys.modules`` after a smoke run). QtWebEngineCore itself links Qt Quick/QML,
Positioning, OpenGL, DBus and Svg, so those *libraries* stay; the other *Python modules*, and every
QML file and QML plugin (``_is_qml``: ~30 MB, whose plugins pull in Qt3D, Quick3D, Multimedia,
Charts, ...), do not.

Everything here is a deny-list, so an unknown file on another OS stays in; ``check_dependencies``
fails the build if anything kept links against something removed.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePath

# PySide6 modules the app never imports (QtWebEngine needs their libraries, not their bindings;
# QtQuick, QtQml and QtOpenGL are not here: page_rendering imports QtQuick, which imports the other
# two), plus build-time-only packages that some dependencies mention (cffi's setuptools shim).
PYTHON_EXCLUDES = [
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2",
    "PySide6.QtQuick3D",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtPositioning",
    "PySide6.QtDBus",
    "PySide6.QtSvg",
    "PySide6.QtSvgWidgets",
    "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets",
    "PySide6.QtCharts",
    "PySide6.QtDataVisualization",
    "PySide6.QtGraphs",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtWebEngineQuick",
    "PySide6.QtDesigner",
    "PySide6.QtUiTools",
    "PySide6.QtTest",
    "PySide6.QtSql",
    "PySide6.Qt3DCore",
    "PySide6.Qt3DRender",
    "PySide6.Qt3DExtras",
    "PySide6.Qt3DInput",
    "PySide6.Qt3DLogic",
    "PySide6.Qt3DAnimation",
    "setuptools",
    "pkg_resources",
    "distutils",
    "_distutils_hack",
]

# Qt libraries (module names as in libQt6<Name>.so / Qt6<Name>.dll / Qt<Name>.framework) that
# nothing the app loads needs. QtWebEngineCore's own closure (Quick, Qml, QmlModels, QmlMeta,
# QmlWorkerScript, Positioning, OpenGL, DBus, WebChannel, PrintSupport, QuickWidgets, Svg,
# XcbQpa, WaylandClient, ...) is deliberately absent from this list.
UNUSED_QT_MODULES = re.compile(
    r"^(?:3D\w*|Quick3D\w*|QuickControls2\w*|QuickDialogs2\w*|QuickTemplates2|QuickParticles|QuickShapes\w*"
    r"|QuickTimeline\w*|QuickVectorImage\w*|QuickEffects|QuickLayouts|QuickTest|QuickUltralite\w*"
    r"|Labs\w*|Charts\w*|DataVisualization\w*|Graphs\w*|Multimedia\w*|SpatialAudio|TextToSpeech"
    r"|Pdf\w*|Location|PositioningQuick|Sensors\w*|SerialPort|SerialBus|Bluetooth|Nfc|RemoteObjects\w*"
    r"|Scxml\w*|StateMachine\w*|VirtualKeyboard\w*|WaylandCompositor\w*|WaylandEglCompositor\w*"
    r"|ShaderTools|Test|Sql|WebSockets|WebView\w*|WebEngineQuick\w*|WebChannelQuick|HttpServer"
    r"|QmlLocalStorage|QmlXmlListModel|QmlNetwork|QmlCore|EglFSDeviceIntegration"
    r"|EglFsKmsSupport|EglFsKmsGbmSupport|Help|Designer\w*|UiTools|NetworkAuth|Grpc\w*|Protobuf\w*)$"
)
_QT_LIB_NAME = re.compile(r"^(?:lib)?Qt6(\w+?)(?:\.so(?:\.\d+)*|\.dll|\.\d+\.dylib|\.dylib)$")
_QT_FRAMEWORK = re.compile(r"^Qt(\w+)\.framework$")

# Qt plugins (by folder, or folder/name without lib prefix and extension) the app does not use.
UNUSED_PLUGIN_TYPES = {
    "egldeviceintegrations",  # eglfs (embedded, no window system)
    "generic",  # evdev/tuio input, for eglfs/linuxfb
    "position",  # geolocation: the app denies every permission request
    "qmltooling",  # QML debugger
    "printsupport",  # CUPS: nothing in the app prints
    "networkinformation",  # QNetworkInformation: not used
    "sqldrivers",
    "multimedia",
    "sceneparsers",
    "geometryloaders",
    "renderers",
    "renderplugins",
    "texttospeech",
    "sensors",
    "canbus",
    "designer",
    "assetimporters",
    "geoservices",
    "webview",
    "virtualkeyboard",
    "scxmldatamodel",
    "qmllint",
    "qmlls",
}
UNUSED_PLUGINS = {
    # platforms: keep xcb, wayland, offscreen (headless smoke tests), windows, cocoa
    "platforms/qeglfs", "platforms/qlinuxfb", "platforms/qminimal", "platforms/qminimalegl",
    "platforms/qvkkhrdisplay", "platforms/qvnc", "platforms/qdirect2d",
    # image formats: keep svg (the app icon), png (built in), jpeg/gif/webp/ico (page thumbnails)
    "imageformats/qpdf", "imageformats/qtiff", "imageformats/qtga", "imageformats/qwbmp",
    "imageformats/qicns", "imageformats/qjp2", "imageformats/qmacheif", "imageformats/qmacjp2",
    "platforminputcontexts/qtvirtualkeyboardplugin",
    # GTK3 theme: loads the system's GTK against bundled cairo/pango; the portal theme stays
    "platformthemes/qgtk3",
    # compositor-side buffer integrations; the client one (qt-plugin-wayland-egl) stays
    "wayland-graphics-integration-client/dmabuf-server",
    "wayland-graphics-integration-client/drm-egl-server",
    "wayland-graphics-integration-client/shm-emulation-server",
    "wayland-graphics-integration-client/vulkan-server",
}


def _parts(dest: str) -> tuple[str, ...]:
    return PurePath(dest.replace("\\", "/")).parts


def _qt_module(dest: str) -> str | None:
    parts = _parts(dest)
    for part in parts:
        match = _QT_FRAMEWORK.match(part)
        if match:
            return match.group(1)
    match = _QT_LIB_NAME.match(parts[-1])
    return match.group(1) if match else None


def _plugin_key(dest: str) -> tuple[str, str] | None:
    """("platforms", "qxcb") for PySide6/Qt/plugins/platforms/libqxcb.so (or ...\\plugins\\platforms\\qxcb.dll)."""
    parts = _parts(dest)
    if parts[0] != "PySide6" or "plugins" not in parts[:-2]:
        return None
    kind = parts[parts.index("plugins") + 1]
    stem = re.sub(r"^lib", "", re.sub(r"\.(so|dll|dylib)$", "", parts[-1]))
    return kind, stem


def _is_qt_translation(dest: str) -> bool:
    # Qt's own .qm catalogues: the app installs no QTranslator, so they are never loaded.
    # (qtwebengine_locales/*.pak are Chromium's strings for web content: they stay.)
    parts = _parts(dest)
    return "translations" in parts and parts[-1].endswith(".qm")


def _is_qml(dest: str) -> bool:
    parts = _parts(dest)
    return len(parts) > 1 and parts[0] == "PySide6" and ("qml" in parts[1:3])


def _removed_reason(dest: str) -> str | None:
    module = _qt_module(dest)
    if module and UNUSED_QT_MODULES.match(module):
        return "unused Qt libraries"
    plugin = _plugin_key(dest)
    if plugin:
        kind, stem = plugin
        if kind in UNUSED_PLUGIN_TYPES or f"{kind}/{stem}" in UNUSED_PLUGINS:
            return "unused Qt plugins"
    if _is_qt_translation(dest):
        return "Qt translations (.qm)"
    if _is_qml(dest):
        return "QML files"
    return None


# -- Linux: libraries the .deb gets from Debian ------------------------------------------------


def _debian_packages(listing: Path) -> set[str]:
    names = set()
    for line in listing.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(line)
    return names


def _owning_packages(paths: list[str]) -> dict[str, str]:
    """Debian package of each path (dpkg -S), trying the /usr-merged alias too."""
    candidates: dict[str, str] = {}
    for path in paths:
        for alias in {path, os.path.realpath(path)}:
            candidates[alias] = path
            if alias.startswith("/lib/"):
                candidates["/usr" + alias] = path
            elif alias.startswith("/usr/lib/"):
                candidates[alias[len("/usr"):]] = path
    result = subprocess.run(
        ["dpkg-query", "-S", *sorted(candidates)], capture_output=True, text=True, check=False
    )
    owners: dict[str, str] = {}
    for line in result.stdout.splitlines():
        package, _, path = line.partition(": ")
        package = package.split(",")[0].split(":")[0].strip()
        path = path.strip()
        if path in candidates:
            owners[candidates[path]] = package
    return owners


def system_provided(binaries: list[tuple], listing: Path) -> dict[str, str]:
    """dest name -> Debian package, for bundled system libraries that a package in ``listing`` provides.

    The .deb depends on every package in ``listing``, so these come from Debian (and get its security
    updates: NSS with its root certificates, libdbus, glib, ...) instead of frozen copies.
    """
    if not sys.platform.startswith("linux") or not shutil.which("dpkg-query") or not listing.is_file():
        return {}
    wanted = _debian_packages(listing)
    system = [entry for entry in binaries if entry[1] and str(entry[1]).startswith(_SYSTEM_PREFIXES)]
    owners = _owning_packages([str(entry[1]) for entry in system])
    provided = {}
    for dest, src, _kind in system:
        package = owners.get(str(src))
        # Ubuntu 24.04 renamed some of these for its 64-bit time_t transition (libasound2t64 provides libasound2).
        if package and (package in wanted or package.removesuffix("t64") in wanted):
            provided[dest] = package
    return provided


# -- the filter ----------------------------------------------------------------------------------


def _size(src: str | None) -> int:
    try:
        return os.path.getsize(src) if src and os.path.isfile(src) else 0
    except OSError:
        return 0


def trim(binaries: list[tuple], datas: list[tuple], *, debian_packages: Path | None = None, log=print):
    """Filter an Analysis' TOCs; returns (binaries, datas, Debian packages now expected from the system).

    Logs what it leaves out, by reason, and fails the build (SystemExit) if a kept binary links
    against a removed one.
    """
    removed: dict[str, list[tuple]] = {}

    def keep(entry: tuple, extra: dict[str, str]) -> bool:
        dest = entry[0]
        reason = _removed_reason(dest)
        if reason is None and dest in extra:
            reason = "system library from a Depends package"
        if reason is None:
            return True
        removed.setdefault(reason, []).append(entry)
        return False

    provided = system_provided(binaries, debian_packages) if debian_packages else {}
    kept_binaries = [entry for entry in binaries if keep(entry, provided)]
    kept_datas = [entry for entry in datas if keep(entry, provided)]

    # System libraries that only removed plugins needed (e.g. GTK's cairo/pango/atk for the qgtk3 theme).
    if sys.platform.startswith("linux"):
        kept_binaries = _drop_orphans(kept_binaries, removed)

    # NSS's FIPS checksum files (libfreebl3.chk, ...) go with their libraries.
    gone_names = {PurePath(_norm(entry[0])).name for entries in removed.values() for entry in entries}

    def _companion_ok(entry: tuple) -> bool:
        name = PurePath(_norm(entry[0])).name
        if name.endswith(".chk") and name[: -len(".chk")] + ".so" in gone_names:
            removed.setdefault("checksum files of removed libraries", []).append(entry)
            return False
        return True

    kept_binaries = [entry for entry in kept_binaries if _companion_ok(entry)]
    kept_datas = [entry for entry in kept_datas if _companion_ok(entry)]

    # Symlinks whose target went away go too.
    present = {_norm(entry[0]) for entry in kept_binaries + kept_datas if entry[2] != "SYMLINK"}

    def _link_ok(entry: tuple) -> bool:
        if entry[2] != "SYMLINK":
            return True
        target = _norm(os.path.join(os.path.dirname(entry[0]), entry[1]))
        if target in present:
            return True
        removed.setdefault("dangling symlink", []).append(entry)
        return False

    kept_binaries = [entry for entry in kept_binaries if _link_ok(entry)]
    kept_datas = [entry for entry in kept_datas if _link_ok(entry)]

    total = 0
    for reason, entries in sorted(removed.items()):
        size = sum(_size(entry[1]) for entry in entries if entry[2] != "SYMLINK")
        total += size
        log(f"trim: {len(entries):4d} files, {size / 1e6:7.1f} MB  {reason}")
    log(f"trim: {sum(map(len, removed.values()))} files, {total / 1e6:.1f} MB left out in all")

    unused = [entry for reason, entries in removed.items() if not reason.startswith("system") for entry in entries]
    check_dependencies(kept_binaries, unused)
    return kept_binaries, kept_datas, sorted(set(provided.values()))


_SYSTEM_PREFIXES = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/")


@functools.cache
def _imports(src: str) -> tuple[str, ...]:
    """Direct link-time dependencies (names only) of a binary."""
    if sys.platform.startswith("linux"):
        # DT_NEEDED only: PyInstaller's ldd-based helper also lists indirect, system-resolved libraries.
        result = subprocess.run(["readelf", "-d", "-W", src], capture_output=True, text=True, check=False)
        return tuple(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", result.stdout))
    from PyInstaller.depend import bindepend

    return tuple(PurePath(name.replace("\\", "/")).name for name, _path in bindepend.get_imports(src))


def _closure(start: list[tuple], by_name: dict[str, tuple]) -> set[str]:
    """Names of the bundled libraries that ``start`` needs, directly or indirectly."""
    reached: set[str] = set()
    stack = list(start)
    while stack:
        for name in _imports(str(stack.pop()[1])):
            if name in by_name and name not in reached:
                reached.add(name)
                stack.append(by_name[name])
    return reached


def _drop_orphans(binaries: list[tuple], removed: dict[str, list[tuple]]) -> list[tuple]:
    """Drop system libraries (Linux) that only removed binaries needed (e.g. GTK's cairo/pango/atk for
    the qgtk3 theme, libcups for the print plugin). Libraries collected for any other reason (ctypes
    look-ups, say) are not touched."""
    def is_file(entry: tuple) -> bool:
        return entry[2] != "SYMLINK" and bool(entry[1]) and os.path.isfile(entry[1])

    real = [entry for entry in binaries if is_file(entry)]
    by_name = {PurePath(_norm(entry[0])).name: entry for entry in real}
    gone = [entry for entries in removed.values() for entry in entries if is_file(entry)]
    candidates = {
        name for name in _closure(gone, by_name) if str(by_name[name][1]).startswith(_SYSTEM_PREFIXES)
    }
    roots = [entry for entry in real if PurePath(_norm(entry[0])).name not in candidates]
    orphans = candidates - _closure(roots, by_name)
    kept = []
    for entry in binaries:
        if entry[2] != "SYMLINK" and PurePath(_norm(entry[0])).name in orphans:
            removed.setdefault("system libraries only removed plugins needed", []).append(entry)
        else:
            kept.append(entry)
    return kept


def _norm(path: str) -> str:
    return os.path.normpath(path.replace("\\", "/"))


def check_dependencies(kept: list[tuple], removed: list[tuple]) -> None:
    """Fail the build if a kept binary links against a removed one."""
    def key(name: str) -> str:
        return name.lower() if sys.platform == "win32" else name  # DLL names are case-insensitive

    gone = {key(PurePath(_norm(entry[0])).name) for entry in removed if entry[2] != "SYMLINK"}
    problems = []
    for dest, src, kind in kept:
        if kind not in ("BINARY", "EXTENSION") or not src or not os.path.isfile(src):
            continue
        for name in _imports(str(src)):
            if key(name) in gone:
                problems.append(f"{dest} needs {name}, which trim.py removed")
    if problems:
        raise SystemExit("trim.py removed libraries that are still needed:\n  " + "\n  ".join(sorted(problems)))
