"""Pages are drawn in software when the only OpenGL renders in software, else as Qt would.

The graphics API is process-wide and read once, by QtWebEngine's first page: each choice is made
in a fresh Python process (this session's QApplication has long chosen)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.system.page_rendering import graphics_devices, is_software_renderer
from tests.conftest import REPO_ROOT

# A fresh process: a QApplication, the choice, then Qt Quick's backend ("" = its default, the GPU's
# API; "software" makes QtWebEngine composite in software too: usingSupportedSGBackend in its source).
# The first argument, JSON, describes the machine: its graphics devices, its OpenGL renderer.
CHOOSE = """
import json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from PySide6.QtQuick import QQuickWindow
from desktop_app.system import page_rendering
machine = json.loads(sys.argv[1])
if "devices" in machine:
    page_rendering.graphics_devices = lambda: [Path(device) for device in machine["devices"]]
if "renderer" in machine:
    page_rendering.opengl_renderer = lambda: machine["renderer"]
app = QApplication([])
reason = page_rendering.choose_page_rendering()
print(json.dumps({"reason": reason, "backend": QQuickWindow.sceneGraphBackend()}))
"""
A_CARD = ["/dev/dri/card0", "/dev/dri/renderD128"]


def choose(machine: dict, platform: str = "offscreen", wrapper: tuple[str, ...] = (), **env: str) -> dict[str, str]:
    environment = dict(os.environ, QT_QPA_PLATFORM=platform, PYTHONPATH=str(REPO_ROOT), **env)
    for switch in ("QT_QUICK_BACKEND", "QMLSCENE_DEVICE", "DISPLAY"):
        if switch not in env:
            environment.pop(switch, None)
    done = subprocess.run([*wrapper, sys.executable, "-c", CHOOSE, json.dumps(machine)], env=environment, capture_output=True, text=True, timeout=60)
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


def test_without_a_graphics_device_pages_are_drawn_in_software_without_asking_opengl() -> None:
    # Were OpenGL asked, this renderer would keep the graphics card.
    assert choose({"devices": [], "renderer": "NVIDIA GeForce RTX 3060/PCIe/SSE2"}) == {
        "reason": "software (no graphics device)",
        "backend": "software",
    }


def test_without_opengl_pages_are_drawn_in_software() -> None:
    assert choose({"devices": A_CARD}) == {"reason": "software (no OpenGL)", "backend": "software"}


def test_a_software_opengl_draws_pages_in_software() -> None:
    assert choose({"devices": A_CARD, "renderer": "llvmpipe (LLVM 15.0.6, 256 bits)"}) == {
        "reason": "software (OpenGL renders in software: llvmpipe (LLVM 15.0.6, 256 bits))",
        "backend": "software",
    }


def test_a_graphics_card_is_left_to_qt() -> None:
    assert choose({"devices": A_CARD, "renderer": "NVIDIA GeForce RTX 3060/PCIe/SSE2"}) == {
        "reason": "graphics card (NVIDIA GeForce RTX 3060/PCIe/SSE2)",
        "backend": "",
    }


def test_qts_own_switch_wins() -> None:
    assert choose({"devices": []}, QT_QUICK_BACKEND="rhi") == {"reason": "as QT_QUICK_BACKEND=rhi asks", "backend": ""}
    assert choose({"devices": A_CARD, "renderer": "NVIDIA GeForce RTX 3060/PCIe/SSE2"}, QT_QUICK_BACKEND="software") == {
        "reason": "as QT_QUICK_BACKEND=software asks",
        "backend": "",
    }


def test_graphics_devices_are_the_nodes_opengl_reaches_a_card_through(tmp_path: Path) -> None:
    assert graphics_devices(tmp_path) == []
    for name in ("dri/by-path/pci-0000:00:02.0-card", "nvidiactl", "nvidia-modeset", "fb0", "null"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    assert graphics_devices(tmp_path) == []
    for name in ("dri/card1", "dri/renderD128", "nvidia0", "dxg"):
        (tmp_path / name).touch()
    assert graphics_devices(tmp_path) == [tmp_path / "dri/card1", tmp_path / "dri/renderD128", tmp_path / "nvidia0", tmp_path / "dxg"]


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run (apt-get install xvfb xauth)")
def test_xvfbs_opengl_is_found_to_render_in_software() -> None:
    """The real probe on a real X server: Mesa's llvmpipe (libgl1 brings it; no GPU here). The
    machine is said to have a card, so that OpenGL is asked."""
    chosen = choose({"devices": A_CARD}, platform="xcb", wrapper=("xvfb-run", "-a", "-s", "-screen 0 1280x800x24"))
    assert chosen["backend"] == "software"
    assert chosen["reason"].startswith("software (OpenGL renders in software: llvmpipe"), chosen
