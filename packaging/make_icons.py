"""Render the app icon (resources/icons/handoff.svg) into what each installer needs.

    python packaging/make_icons.py OUT_DIR

writes OUT_DIR/handoff-<N>.png for the hicolor sizes, OUT_DIR/handoff.ico (Windows) and
OUT_DIR/handoff.icns (macOS). Qt's SVG renderer (PySide6, already a dependency) draws the PNGs, and
Pillow (a dependency of browser-use) packs the .ico and .icns, so no extra tool is needed on any OS.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "handoff.svg"
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)  # hicolor theme sizes
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def render_pngs(out: Path, sizes: tuple[int, ...]) -> dict[int, Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # noqa: F841 (must exist)
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {SVG}")
    written = {}
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        path = out / f"handoff-{size}.png"
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"cannot write {path}")
        written[size] = path
    return written


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    pngs = render_pngs(out, tuple(sorted(set(PNG_SIZES) | set(ICO_SIZES) | set(ICNS_SIZES))))

    from PIL import Image

    biggest = Image.open(pngs[max(ICO_SIZES)])
    biggest.save(out / "handoff.ico", format="ICO", sizes=[(s, s) for s in ICO_SIZES])
    icns_source = Image.open(pngs[max(ICNS_SIZES)])
    icns_source.save(
        out / "handoff.icns",
        format="ICNS",
        append_images=[Image.open(pngs[s]) for s in ICNS_SIZES if s != max(ICNS_SIZES)],
    )
    for name in sorted(p.name for p in out.iterdir()):
        print(f"icons: {out / name}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
