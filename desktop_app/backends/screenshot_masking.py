"""Every screenshot browser-use takes of the Local page is masked before anything else sees it.

All of browser-use's screenshot paths (the step's state, the screenshot action, element shots) end
in cdp-use's ``PageClient.captureScreenshot``; it is wrapped once, and while a Local session is
open each capture is bracketed by two reads of the page (core/privacy.py): the boxes of hidden
fields before and after the capture are both painted over, so a scroll in between cannot uncover
one. When the page cannot be read, the whole image is painted over. The model, the timeline's
thumbnails and the files on disk all get this masked image; the unmasked one is never kept.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop_app.core.page_masks import Box, PageMasks
    from desktop_app.core.privacy import PrivacyGuard

log = logging.getLogger(__name__)

MASK_FILL = (58, 63, 75)
MASK_EDGE = (120, 128, 145)
MASK_TEXT = (225, 228, 235)
MARGIN = 2  # device px around each box: borders and focus rings can show a glyph's edge

# id(BrowserSession) → (that session, the guard of its page). Several Local sessions run at once,
# each with its own page: a capture is masked with the guard of the session whose connection took it.
_guards: dict[int, tuple[Any, PrivacyGuard]] = {}
_wrapped = False


def protect(guard: PrivacyGuard, browser_session: Any) -> None:
    """Mask every screenshot ``browser_session`` takes from now on with ``guard``'s reading of its page."""
    _wrap_capture()
    _guards[id(browser_session)] = (browser_session, guard)


def release(guard: PrivacyGuard) -> None:
    for key, (_session, kept) in list(_guards.items()):
        if kept is guard:
            del _guards[key]


def _guard_for(client: Any) -> PrivacyGuard | None:
    """The guard of the session whose (current: it may have reconnected) connection is ``client``."""
    for session, guard in _guards.values():
        if getattr(session, "_cdp_client_root", None) is client:
            return guard
    return None


def _wrap_capture() -> None:
    global _wrapped
    if _wrapped:
        return
    from cdp_use.cdp.page.library import PageClient

    original = PageClient.captureScreenshot

    async def captureScreenshot(self: Any, params: Any = None, session_id: str | None = None) -> Any:  # noqa: N802 (cdp-use's name)
        if not _guards:
            return await original(self, params, session_id)  # no Local session open
        guard = _guard_for(self._client)
        if guard is None:  # a connection no session claims: nothing of it may be seen
            result = await original(self, params, session_id)
            data = result.get("data") if isinstance(result, dict) else None
            return {**result, "data": await asyncio.to_thread(mask_screenshot, data, (None,), {})} if data else result
        before = await guard.read(why="screenshot")
        result = await original(self, params, session_id)
        after = await guard.read(why="screenshot")
        data = result.get("data") if isinstance(result, dict) else None
        if not data or all(r is not None and r.readable and not r.boxes for r in (before, after)):
            return result  # the page was read and hides nothing: nothing to paint
        masked = await asyncio.to_thread(mask_screenshot, data, (before, after), dict(params or {}))
        return {**result, "data": masked}

    PageClient.captureScreenshot = captureScreenshot  # type: ignore[method-assign]
    _wrapped = True


def mask_screenshot(data: str, readings: tuple[PageMasks | None, ...], params: dict[str, Any]) -> str:
    """The base64 image with every hidden box painted over (all of it if any reading failed)."""
    from PIL import Image, ImageDraw

    raw = base64.b64decode(data)
    image = Image.open(io.BytesIO(raw))
    image.load()
    kind = image.format or "PNG"
    image = image.convert("RGB")
    draw = ImageDraw.Draw(image)
    # Readings place fields within the viewport; a clipped or full-page capture can show a hidden
    # field scrolled out of view, which has no box to paint: hide the whole image then.
    beyond_view = bool(params.get("clip") or params.get("captureBeyondViewport"))
    unplaced = any(r is not None and any(f.box is None for f in r.fields) for r in readings)
    if any(r is None or not r.readable for r in readings) or (beyond_view and unplaced):
        draw.rectangle((0, 0, image.width, image.height), fill=MASK_FILL)
        _label(draw, (0, 0, image.width, image.height), "page hidden: it could not be checked")
    else:
        for box in _image_boxes([r for r in readings if r is not None], image.size, params):
            draw.rectangle(box, fill=MASK_FILL, outline=MASK_EDGE)
            _label(draw, box, "hidden")
    out = io.BytesIO()
    if kind.upper() in ("JPEG", "JPG"):
        image.save(out, "JPEG", quality=int(params.get("quality") or 80))
    else:
        image.save(out, "PNG", compress_level=1)
    return base64.b64encode(out.getvalue()).decode()


def _image_boxes(readings: list[PageMasks], size: tuple[int, int], params: dict[str, Any]) -> list[tuple[int, int, int, int]]:
    clip = params.get("clip") or None
    beyond = bool(params.get("captureBeyondViewport"))
    boxes: list[tuple[int, int, int, int]] = []
    for reading in readings:
        scroll_x, scroll_y = reading.scroll
        for box in reading.boxes:
            boxes.append(_to_pixels(box, reading, size, clip, beyond, scroll_x, scroll_y))
    return boxes


def _to_pixels(
    box: Box, reading: PageMasks, size: tuple[int, int], clip: dict[str, Any] | None, beyond: bool, sx: float, sy: float
) -> tuple[int, int, int, int]:
    x, y, width, height = box.x, box.y, box.width, box.height
    if clip:
        # Clips are in page coordinates; the image is the clip, scaled to its pixel size.
        scale = size[0] / float(clip.get("width") or size[0])
        x, y = x + sx - float(clip.get("x", 0)), y + sy - float(clip.get("y", 0))
    else:
        scale = reading.scale
        if beyond:  # a full-page image starts at the top of the document
            x, y = x + sx, y + sy
    return (
        int(x * scale) - MARGIN,
        int(y * scale) - MARGIN,
        int((x + width) * scale + 0.999) + MARGIN,
        int((y + height) * scale + 0.999) + MARGIN,
    )


def _label(draw: Any, box: tuple[int, int, int, int], text: str) -> None:
    left, top, right, bottom = box
    if right - left < 60 or bottom - top < 14:
        return
    text_left, text_top, text_right, text_bottom = draw.textbbox((0, 0), text)
    width, height = text_right - text_left, text_bottom - text_top
    if width > right - left - 6:
        return
    draw.text((left + (right - left - width) / 2, top + (bottom - top - height) / 2 - text_top), text, fill=MASK_TEXT)
