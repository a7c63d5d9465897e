"""What Handoff changes in browser-use: reading a page's DOM into the model's view of it happens in
a worker thread, not on the event loop the window shares (a large page took seconds there)."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from desktop_app.backends.browser_use_setup import import_browser_use


def test_the_dom_is_serialized_off_the_event_loops_thread(monkeypatch: pytest.MonkeyPatch, qrun: Any) -> None:
    import_browser_use()
    from browser_use.dom.serializer.serializer import DOMTreeSerializer
    from browser_use.dom.service import DomService

    seen: dict[str, Any] = {}

    def init(self: Any, root: Any, previous: Any, *, paint_order_filtering: bool, session_id: str) -> None:
        seen["built_with"] = (root, previous, paint_order_filtering, session_id)

    def serialize(self: Any) -> tuple[str, dict[str, float]]:
        seen["thread"] = threading.current_thread()
        return "the model's view", {"create_simplified_tree": 0.25}

    monkeypatch.setattr(DOMTreeSerializer, "__init__", init)
    monkeypatch.setattr(DOMTreeSerializer, "serialize_accessible_elements", serialize)

    async def get_dom_tree(*, target_id: str, all_frames: Any) -> tuple[str, dict[str, float]]:
        assert (target_id, all_frames) == ("target-1", None)
        return "the tree", {"get_dom_tree_total_ms": 12.0}

    service = SimpleNamespace(
        browser_session=SimpleNamespace(agent_focus_target_id="target-1", id="session-1"),
        paint_order_filtering=True,
        get_dom_tree=get_dom_tree,
    )
    state, tree, timing = qrun(DomService.get_serialized_dom_tree(service, previous_cached_state="the last view"))

    assert (state, tree) == ("the model's view", "the tree")
    assert timing == {"get_dom_tree_total_ms": 12.0, "create_simplified_tree_ms": 250.0}
    assert seen["built_with"] == ("the tree", "the last view", True, "session-1")
    assert seen["thread"] is not threading.main_thread()
