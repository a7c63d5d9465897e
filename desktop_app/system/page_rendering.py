"""How the window draws web pages: with the graphics card when there is one, in software when not.

QtWebEngine draws a page in two steps: Chromium paints it, and Qt Quick puts the result on the
window. With OpenGL and no graphics card (a virtual machine, a remote desktop, Xvfb), Mesa's
software rasteriser (llvmpipe) does the second step on the window's own thread, for every frame of
the page — and the window stutters while the agent works: p99 of the loop's lateness 17–20 ms under
Xvfb, against 9–10 ms with Qt Quick's software renderer, which copies Chromium's bitmaps as they
are (bench/responsiveness.py; docs/benchmarks.md). So when the only OpenGL there is renders in
software, pages are drawn in software. With a real graphics card nothing changes.

Finding out costs an OpenGL context (~50 ms under Xvfb), so a machine with no graphics device at
all (no ``/dev/dri``, ``/dev/nvidia*`` or WSL's ``/dev/dxg``: most virtual machines, containers and
CI) is known to render in software without one.

Qt's own switch wins: ``QT_QUICK_BACKEND`` (or ``QMLSCENE_DEVICE``) set to ``software`` forces
software, set to ``rhi`` keeps the graphics card — for a machine where the choice is wrong.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

# GL_RENDERER strings of renderers that draw on the processor (Mesa, Chromium's, Windows' own).
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "software rasterizer", "swiftshader", "basic render driver", "gdi generic")
QT_SWITCHES = ("QT_QUICK_BACKEND", "QMLSCENE_DEVICE")
GL_RENDERER = 0x1F01
# Device nodes through which OpenGL reaches a graphics card on Linux (Mesa's DRM drivers, NVIDIA's
# own driver, WSL's Direct3D bridge). Without any, Mesa can only draw on the processor.
GRAPHICS_DEVICES = ("dri/card*", "dri/renderD*", "nvidia[0-9]*", "dxg")


def is_software_renderer(renderer: str) -> bool:
    lowered = renderer.lower()
    return any(name in lowered for name in SOFTWARE_RENDERERS)


def choose_page_rendering() -> str:
    """Decide, and say why. Runs after the QApplication exists and before the first web view:
    QtWebEngine reads the choice when it creates its first page."""
    for switch in QT_SWITCHES:
        if os.environ.get(switch):
            return f"as {switch}={os.environ[switch]} asks"
    if not sys.platform.startswith("linux"):
        # Windows and macOS draw through Direct3D or Metal, which fall back to software themselves.
        return "the system's default"
    if not graphics_devices():
        draw_pages_in_software()
        return "software (no graphics device)"
    renderer = opengl_renderer()
    if renderer is not None and not is_software_renderer(renderer):
        return f"graphics card ({renderer})"
    draw_pages_in_software()
    return f"software (OpenGL renders in software: {renderer})" if renderer else "software (no OpenGL)"


def draw_pages_in_software() -> None:
    from PySide6.QtQuick import QQuickWindow, QSGRendererInterface

    QQuickWindow.setGraphicsApi(QSGRendererInterface.GraphicsApi.Software)


def graphics_devices(root: Path = Path("/dev")) -> list[Path]:
    return [device for pattern in GRAPHICS_DEVICES for device in sorted(root.glob(pattern))]


def opengl_renderer() -> str | None:
    """The OpenGL renderer's name, or None when there is no OpenGL (e.g. the offscreen platform).
    Costs one context: ~1 ms without OpenGL, ~30 ms with llvmpipe under Xvfb."""
    from PySide6.QtGui import QOffscreenSurface, QOpenGLContext

    context = QOpenGLContext()
    if not context.create():
        return None
    surface = QOffscreenSurface()
    surface.setFormat(context.format())
    surface.create()
    try:
        if not context.makeCurrent(surface):
            return None
        name = context.functions().glGetString(GL_RENDERER)
        context.doneCurrent()
        return str(name) if name else None
    finally:
        surface.destroy()
