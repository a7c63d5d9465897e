"""Pages are drawn in software when the only OpenGL renders in software, else as Qt would.

The graphics API is process-wide and read once, by QtWebEngine's first page: each choice is made
in a fresh Python process (this session's QApplication has long chosen)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from desktop_app.system.page_rendering import is_software_renderer
from tests.conftest import REPO_ROOT

# A fresh process: a QApplication, the choice, then Qt Quick's backend ("" = its default, the GPU's
# API; "software" makes QtWebEngine composite in software too: usingSupportedSGBackend in its source).
CHOOSE = """
import json, sys
from PySide6.QtWidgets import QApplication
from PySide6.QtQuick import QQuickWindow
from desktop_app.system import page_rendering
if len(sys.argv) > 1:
    page_rendering.opengl_renderer = lambda: sys.argv[1]  # a machine with this renderer
app = QApplication([])
reason = page_rendering.choose_page_rendering()
print(json.dumps({"reason": reason, "backend": QQuickWindow.sceneGraphBackend()}))
"""


def choose(*renderer: str, platform: str = "offscreen", wrapper: tuple[str, ...] = (), **env: str) -> dict[str, str]:
    environment = dict(os.environ, QT_QPA_PLATFORM=platform, PYTHONPATH=str(REPO_ROOT), **env)
    for switch in ("QT_QUICK_BACKEND", "QMLSCENE_DEVICE", "DISPLAY"):
        if switch not in env:
            environment.pop(switch, None)
    done = subprocess.run([*wrapper, sys.executable, "-c", CHOOSE, *renderer], env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("renderer", "software"),
    [
        ("llvmpipe (LLVM 15.0.6, 256 bits)", True),
        ("softpipe", True),
        ("Software Rasterizer", True),
        ("ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)", True),
        ("D3D12 (Microsoft Basic Render Driver)", True),
        ("Mesa Intel(R) UHD Graphics 620 (KBL GT2)", False),
        ("NVIDIA GeForce RTX 3060/PCIe/SSE2", False),
        ("AMD Radeon RX 6600 (navi23, LLVM 15.0.6, DRM 3.49, 6.1.0-13-amd64)", False),
        ("SVGA3D; build: RELEASE;  LLVM;", False),
        ("virgl (Intel(R) Iris(R) Xe Graphics)", False),
    ],
)
def test_software_renderers_are_told_from_graphics_cards(renderer: str, software: bool) -> None:
    assert is_software_renderer(renderer) is software


def test_without_opengl_pages_are_drawn_in_software() -> None:
    assert choose() == {"reason": "software (no OpenGL)", "backend": "software"}


def test_a_software_opengl_draws_pages_in_software() -> None:
    assert choose("llvmpipe (LLVM 15.0.6, 256 bits)") == {
        "reason": "software (OpenGL renders in software: llvmpipe (LLVM 15.0.6, 256 bits))",
        "backend": "software",
    }


def test_a_graphics_card_is_left_to_qt() -> None:
    assert choose("NVIDIA GeForce RTX 3060/PCIe/SSE2") == {"reason": "graphics card (NVIDIA GeForce RTX 3060/PCIe/SSE2)", "backend": ""}


def test_qts_own_switch_wins() -> None:
    assert choose(QT_QUICK_BACKEND="rhi") == {"reason": "as QT_QUICK_BACKEND=rhi asks", "backend": ""}
    assert choose("NVIDIA GeForce RTX 3060/PCIe/SSE2", QT_QUICK_BACKEND="software") == {"reason": "as QT_QUICK_BACKEND=software asks", "backend": ""}


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run (apt-get install xvfb xauth)")
def test_xvfbs_opengl_is_found_to_render_in_software() -> None:
    """The real probe on a real X server: Mesa's llvmpipe (libgl1 brings it; no GPU here)."""
    chosen = choose(platform="xcb", wrapper=("xvfb-run", "-a", "-s", "-screen 0 1280x800x24"))
    assert chosen["backend"] == "software"
    assert chosen["reason"].startswith("software (OpenGL renders in software: llvmpipe"), chosen
