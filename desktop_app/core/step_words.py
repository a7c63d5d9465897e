"""What the agent did in a step, in words a non-technical person reads at a glance.

Both backends report a step's actions as JSON strings shaped ``{"action_name": {params}}``
(browser-use's own action model). Names differ between browser-use versions and the Cloud
service (``input`` vs ``input_text``, ``navigate`` vs ``go_to_url``), so each wording lists
every name we have seen; anything unknown is still shown, by its name, rather than hidden.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

_QUOTE_LIMIT = 40  # what the agent typed or searched for: enough to recognise it
_RAW_LIMIT = 160  # an action we cannot read, shown as it came


def _shortened(value: object, limit: int) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quoted(value: object) -> str:
    return f"“{_shortened(value, _QUOTE_LIMIT)}”"


def _site(url: object) -> str:
    text = str(url or "").strip()
    if not text:
        return "a page"
    try:
        host = urlsplit(text if "://" in text else f"https://{text}").hostname
    except ValueError:  # e.g. a malformed IPv6 address
        host = None
    return host.removeprefix("www.") if host else _quoted(text)


def _flag(value: object) -> bool:
    """A yes/no the model may have sent as a string ("false") as well as a boolean."""
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "")
    return bool(value)


def _typed(p: dict) -> str:
    text = p.get("text", "")
    return f"Typed {_quoted(text)}" if text else "Cleared a field"


def _scrolled(p: dict) -> str:
    if "down" in p:
        return "Scrolled down" if _flag(p["down"]) else "Scrolled up"
    return "Scrolled"


def _done(p: dict) -> str:
    return "Finished the task" if _flag(p.get("success", True)) else "Gave up on the task"


_WORDINGS: dict[str, Callable[[dict], str]] = {}


def _wording(*names: str) -> Callable[[Callable[[dict], str]], Callable[[dict], str]]:
    def register(describe: Callable[[dict], str]) -> Callable[[dict], str]:
        for name in names:
            _WORDINGS[name] = describe
        return describe

    return register


_wording("input", "input_text", "type")(_typed)
_wording("scroll", "scroll_down", "scroll_up")(_scrolled)
_wording("done")(_done)
_wording("navigate", "go_to_url", "open_tab")(lambda p: f"Opened {_site(p.get('url'))}")
_wording("search", "search_google")(lambda p: f"Searched for {_quoted(p.get('query', ''))}")
_wording("click", "click_element_by_index", "click_element")(lambda p: "Clicked on the page")
_wording("go_back")(lambda p: "Went back a page")
_wording("wait")(lambda p: f"Waited {p['seconds']:g} s" if isinstance(p.get("seconds"), (int, float)) else "Waited")
_wording("send_keys")(lambda p: f"Pressed {_quoted(p['keys'])}" if p.get("keys") else "Pressed keys")
_wording("switch", "switch_tab")(lambda p: "Switched tab")
_wording("close", "close_tab")(lambda p: "Closed a tab")
_wording("extract", "extract_content", "extract_structured_data")(lambda p: "Read the page")
_wording("search_page", "find_elements", "find_text", "scroll_to_text")(lambda p: "Looked through the page")
_wording("select_dropdown", "select_dropdown_option")(lambda p: f"Picked {_quoted(p.get('text', ''))}")
_wording("dropdown_options", "get_dropdown_options")(lambda p: "Looked at a list's options")
_wording("upload_file", "upload_file_to_element")(lambda p: "Uploaded a file")
_wording("screenshot")(lambda p: "Took a screenshot")
_wording("save_as_pdf")(lambda p: "Saved the page as a PDF")
_wording("write_file", "replace_file", "replace_file_str")(lambda p: "Wrote notes to a file")
_wording("read_file")(lambda p: "Read a file")
_wording("evaluate")(lambda p: "Ran a script on the page")
_wording("request_human", "request_human_control")(lambda p: "Asked you for help")


def describe_action(raw: str) -> str:
    """One action in plain words; text that is not an action is shown as it came (shortened)."""
    try:
        decoded = json.loads(raw)
    except (TypeError, ValueError, RecursionError):  # RecursionError: absurdly nested input
        return _shortened(raw, _RAW_LIMIT)
    if not isinstance(decoded, dict) or not decoded:
        return _shortened(raw, _RAW_LIMIT)
    name, params = next(iter(decoded.items()))
    params = params if isinstance(params, dict) else {}
    describe = _WORDINGS.get(name)
    if describe is None:
        return f"Used {_quoted(name.replace('_', ' '))}"
    try:
        return describe(params)
    except (KeyError, TypeError, ValueError):
        return f"Used {_quoted(name.replace('_', ' '))}"


def describe_actions(actions: Iterable[str]) -> str:
    """A step's actions as one sentence fragment: ``Typed “Ada”, then Clicked on the page``."""
    words = [describe_action(raw) for raw in actions]
    words = [w for w in words if w]
    if not words:
        return ""
    return words[0] + "".join(f", then {w[0].lower()}{w[1:]}" for w in words[1:])
