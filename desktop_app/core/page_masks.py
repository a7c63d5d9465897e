"""What the page says, and what of it to hide: the frame tree a page inspector reports, the times
the person could act, and ``read_masks`` — which fields are the person's (or secret), where their
boxes are on the screenshot, and which frames are painted over whole (no Qt).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# -- who could act when ---------------------------------------------------------------------------


class ControlWindows:
    """When the view was locked (the agent may act, the person cannot). Times in ms since the
    epoch, the clock page scripts use; an input at any other time was the person's."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._locked: list[list[float]] = []  # [start, end]; the last one may be open (end = inf)

    def now_ms(self) -> float:
        return self._clock() * 1000.0

    def set_locked(self, locked: bool) -> None:
        is_locked = bool(self._locked) and self._locked[-1][1] == float("inf")
        if locked and not is_locked:
            self._locked.append([self.now_ms(), float("inf")])
        elif not locked and is_locked:
            self._locked[-1][1] = self.now_ms()

    def by_person(self, at_ms: float) -> bool:
        return not any(start <= at_ms <= end for start, end in self._locked)

    @property
    def person_since(self) -> float | None:
        """When the person last got the browser (None while it is locked)."""
        if self._locked and self._locked[-1][1] == float("inf"):
            return None
        return self._locked[-1][1] if self._locked else 0.0


# -- what the page says ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameReport:
    """One frame as the adapter saw it: the tracker's report (None when the frame did not answer),
    and what the browser says of the frame (its ``name`` attribute, address and size)."""

    report: dict[str, Any] | None
    name: str = ""
    url: str = ""
    size: tuple[float, float] = (0.0, 0.0)
    children: tuple[FrameReport, ...] = ()


class PageInspector(Protocol):
    async def inspect(self) -> FrameReport | None:
        """The Local page's frames; None when no Local page is on screen."""
        ...


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    def clipped(self, clip: Box) -> Box | None:
        left, top = max(self.x, clip.x), max(self.y, clip.y)
        right = min(self.x + self.width, clip.x + clip.width)
        bottom = min(self.y + self.height, clip.y + clip.height)
        if right <= left or bottom <= top:
            return None
        return Box(left, top, right - left, bottom - top)

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.x + dx, self.y + dy, self.width, self.height)


@dataclass(frozen=True)
class HiddenField:
    label: str
    value: str = field(repr=False)  # never logged, never stored
    by_person: bool
    box: Box | None  # in the top page's viewport (CSS px); None when scrolled out of view


@dataclass(frozen=True)
class PageMasks:
    """What must not reach the model from this page, as read at one moment."""

    fields: tuple[HiddenField, ...]
    boxes: tuple[Box, ...]  # to paint over in a screenshot (fields and whole frames), CSS px
    scale: float  # device pixels per CSS px
    scroll: tuple[float, float]
    confirmed: bool  # every frame answered and every frame the person typed in was placed
    readable: bool = True  # False: the page itself did not answer (nothing of it may be shown)
    pressed: tuple[str, ...] = ()  # buttons the person pressed (labels), oldest first

    @property
    def person_fields(self) -> tuple[HiddenField, ...]:
        return tuple(f for f in self.fields if f.by_person)


def read_masks(
    page: FrameReport, windows: ControlWindows, *, since_ms: float = 0.0, vault_values: frozenset[str] = frozenset()
) -> PageMasks:
    """Decide what to hide from a page's frame tree. ``since_ms`` limits ``pressed`` to recent clicks;
    a field holding one of ``vault_values`` (the agent typed it from the vault) is hidden too."""
    top = page.report
    if top is None:
        return PageMasks((), (), 1.0, (0.0, 0.0), confirmed=False, readable=False)
    width, height = _pair(top.get("viewport"), (0.0, 0.0))
    reader = _Reader(windows, since_ms, vault_values)
    reader.visit(page, offset=(0.0, 0.0), clip=Box(0.0, 0.0, width, height))
    return PageMasks(
        fields=tuple(reader.fields),
        boxes=tuple(reader.boxes),
        scale=float(top.get("dpr") or 1.0),
        scroll=_pair(top.get("scroll"), (0.0, 0.0)),
        confirmed=reader.confirmed,
        pressed=tuple(reader.pressed),
    )


class _Reader:
    def __init__(self, windows: ControlWindows, since_ms: float, vault_values: frozenset[str] = frozenset()) -> None:
        self.windows = windows
        self.vault_values = vault_values
        self.since_ms = since_ms
        self.fields: list[HiddenField] = []
        self.boxes: list[Box] = []
        self.pressed: list[str] = []
        self.confirmed = True

    def visit(self, frame: FrameReport, offset: tuple[float, float], clip: Box) -> bool:
        """Collect this frame's hidden fields; True when the person typed in it (or below it)."""
        report = frame.report or {}
        typed_here = False
        for raw in report.get("fields", ()):
            times = [float(t) for t in raw.get("times", ())]
            by_person = any(self.windows.by_person(t) for t in times)
            from_vault = str(raw.get("value") or "").strip() in self.vault_values
            if not by_person and not raw.get("sensitive") and not from_vault:
                continue
            typed_here = typed_here or by_person
            box = _box(raw.get("rect"))
            placed = box.moved(*offset).clipped(clip) if box is not None else None
            self.fields.append(HiddenField(str(raw.get("label") or "a field"), str(raw.get("value") or ""), by_person, placed))
            if placed is not None:
                self.boxes.append(placed)
        for click in report.get("pressed", ()):
            at = float(click.get("t", 0))
            if at >= self.since_ms and self.windows.by_person(at) and click.get("label"):
                self.pressed.append(str(click["label"]))
        elements = [e for e in report.get("frames", ()) if isinstance(e, dict)]
        for child, element in _place_children(frame.children, elements):
            if element is None:
                # The browser has a frame the page does not show where: if it holds anything the
                # person typed we cannot say where to paint, so the page counts as unconfirmed.
                if child.report is None or self._has_person_input(child):
                    self.confirmed = False
                    self.boxes.extend(b for e in elements if (b := _frame_box(e, offset, clip)) is not None)
                continue
            content = _box(element.get("content"))
            frame_box = _frame_box(element, offset, clip)
            if child.report is None:
                # Not answering (still loading, or a frame the tracker cannot enter): paint it over.
                if frame_box is not None:
                    self.boxes.append(frame_box)
                continue
            child_offset = (offset[0] + content.x, offset[1] + content.y) if content else offset
            child_clip = (content.moved(*offset).clipped(clip) if content else None) or Box(0, 0, 0, 0)
            if self.visit(child, child_offset, child_clip):
                typed_here = True
                if frame_box is not None:
                    self.boxes.append(frame_box)  # another site's payment frame: hide it whole
        return typed_here

    def _has_person_input(self, frame: FrameReport) -> bool:
        report = frame.report or {}
        for raw in report.get("fields", ()):
            if any(self.windows.by_person(float(t)) for t in raw.get("times", ())) or raw.get("sensitive"):
                return True
        return any(self._has_person_input(child) for child in frame.children)


def _place_children(
    children: Sequence[FrameReport], elements: list[dict[str, Any]]
) -> list[tuple[FrameReport, dict[str, Any] | None]]:
    """Match the browser's child frames to the page's frame elements: by name, address and size,
    in document order among equals."""
    free = list(range(len(elements)))
    placed: list[tuple[FrameReport, dict[str, Any] | None]] = []
    for child in children:
        match = next((i for i in free if _same_frame(child, elements[i])), None)
        if match is not None:
            free.remove(match)
        placed.append((child, elements[match] if match is not None else None))
    return placed


def _same_frame(child: FrameReport, element: dict[str, Any]) -> bool:
    if child.name and child.name != element.get("name", ""):
        return False
    content = _box(element.get("content"))
    if content is not None and child.size != (0.0, 0.0):
        if abs(content.width - child.size[0]) > 1.5 or abs(content.height - child.size[1]) > 1.5:
            return False
    src = str(element.get("src") or "")
    return not src or not child.url or _without_fragment(src) == _without_fragment(child.url)


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def _frame_box(element: dict[str, Any], offset: tuple[float, float], clip: Box) -> Box | None:
    box = _box(element.get("rect"))
    return box.moved(*offset).clipped(clip) if box is not None else None


def _box(raw: Any) -> Box | None:
    try:
        x, y, width, height = (float(v) for v in raw)
    except (TypeError, ValueError):
        return None
    return Box(x, y, width, height) if width > 0 and height > 0 else None


def _pair(raw: Any, default: tuple[float, float]) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in raw)
    except (TypeError, ValueError):
        return default
    return (a, b)
