"""Screenshots the agent takes are painted over where the privacy rules hide a field, on the image
itself (``backends.screenshot_masking``)."""

from __future__ import annotations

import base64
import io

from PIL import Image

from desktop_app.backends.screenshot_masking import MASK_FILL, mask_screenshot
from desktop_app.core.page_masks import ControlWindows, FrameReport, read_masks
from tests.fakes.clock import FakeClock
from tests.fakes.page_inspector import field, report


def test_a_full_page_screenshot_is_hidden_whole_when_a_hidden_field_is_out_of_view() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 400), (255, 255, 255)).save(buffer, "PNG")
    data = base64.b64encode(buffer.getvalue()).decode()
    below = read_masks(FrameReport(report([field("Card", "4111111111111111", [1], rect=(10, 900, 100, 20))])), ControlWindows(FakeClock()))

    def corner(masked: str) -> tuple[int, ...]:
        return Image.open(io.BytesIO(base64.b64decode(masked))).convert("RGB").getpixel((5, 5))

    assert corner(mask_screenshot(data, (below, below), {})) == (255, 255, 255)  # the viewport shows nothing hidden
    assert corner(mask_screenshot(data, (below, below), {"captureBeyondViewport": True})) == MASK_FILL
