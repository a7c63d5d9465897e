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


class _Guard:
    """Reads its page as the PrivacyGuard does: here, a page with one hidden field at a known box."""

    def __init__(self, masks: object) -> None:
        self.masks = masks
        self.reads = 0

    async def read(self, *, why: str) -> object:
        self.reads += 1
        return self.masks


class _Client:
    """A CDP connection: answers every capture with the same white image."""

    def __init__(self, data: str) -> None:
        self.data = data

    async def send_raw(self, method: str, params: object = None, session_id: str | None = None) -> dict[str, str]:
        return {"data": self.data}


def test_with_several_local_sessions_each_capture_is_masked_by_its_own_sessions_guard(arun) -> None:
    from types import SimpleNamespace

    from cdp_use.cdp.page.library import PageClient

    from desktop_app.backends import screenshot_masking

    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), (255, 255, 255)).save(buffer, "PNG")
    white = base64.b64encode(buffer.getvalue()).decode()
    card = read_masks(FrameReport(report([field("Card", "4111111111111111", [1], rect=(10, 10, 100, 20))])), ControlWindows(FakeClock()))
    nothing = read_masks(FrameReport(report([])), ControlWindows(FakeClock()))
    first, second = SimpleNamespace(_cdp_client_root=_Client(white)), SimpleNamespace(_cdp_client_root=_Client(white))
    with_card, without = _Guard(card), _Guard(nothing)

    def pixel(client: _Client, at: tuple[int, int]) -> tuple[int, ...]:
        shot = arun(PageClient(client).captureScreenshot({"format": "png"}))
        return Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB").getpixel(at)

    screenshot_masking.protect(with_card, first)
    screenshot_masking.protect(without, second)
    try:
        assert pixel(first._cdp_client_root, (30, 15)) == MASK_FILL  # its own page's card field, painted over
        assert pixel(second._cdp_client_root, (30, 15)) == (255, 255, 255)  # the other page hides nothing
        assert (with_card.reads, without.reads) == (2, 2)
        first._cdp_client_root = _Client(white)  # browser-use reconnected: the session's new connection
        assert pixel(first._cdp_client_root, (30, 15)) == MASK_FILL
        assert pixel(_Client(white), (150, 150)) == MASK_FILL  # a connection no session claims: hidden whole
    finally:
        screenshot_masking.release(with_card)
        screenshot_masking.release(without)
    assert pixel(_Client(white), (150, 150)) == (255, 255, 255)  # no Local session open: nothing to hide
