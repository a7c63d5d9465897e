"""The site rules' enforcement in Local mode: before an agent click or Enter reaches the page, read
what it would press (over DevTools, without touching the page) and ask core whether the person
must do it (``core.site_rules.refusal``). The action guard in ``local.py`` refuses it then.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from desktop_app.core.site_rules import SiteRules, Target, refusal, script_refusal

log = logging.getLogger(__name__)

READ_TIMEOUT = 5.0  # a page that does not answer in time counts as unreadable

# Runs on the element (``this``) in its own frame; reads, never changes anything.
_TARGET_JS = r"""function(enter) {
  const start = this && this.nodeType === 1 ? this : (this && this.parentElement) || document.body;
  const CARD = / (card ?number|card ?no|cc ?(num|number)|cvv|cvc|csc|cvv2|security ?code|expiry|expiration|exp ?date) /;
  const words = (t) => ' ' + (t || '').replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_\-.]+/g, ' ').toLowerCase() + ' ';
  const isCard = (f) => {
    if (/(^| )cc-/.test((f.getAttribute('autocomplete') || '').toLowerCase())) return true;
    const hints = [f.name, f.id, f.placeholder, f.getAttribute('aria-label')].join(' ');
    if (CARD.test(words(hints))) return true;
    return !!(f.labels && [...f.labels].some((l) => CARD.test(words(l.innerText))));
  };
  const button = start.closest('button, input[type=submit], input[type=button], input[type=image], [role=button]');
  const target = button || start;
  const form = target.form || target.closest('form');
  const type = (target.getAttribute('type') || '').toLowerCase();
  let submits = false;
  if (form) {
    if (target.tagName === 'BUTTON') submits = type === '' || type === 'submit';
    else if (target.tagName === 'INPUT') submits = type === 'submit' || type === 'image' ||
      (enter && !['checkbox', 'radio', 'button', 'reset', 'file'].includes(type));
  }
  const fields = form ? [...form.querySelectorAll('input, textarea, select')] : [];
  const label = (button ? (button.innerText || button.value || button.getAttribute('aria-label') || button.title) : '') || '';
  return JSON.stringify({
    label: label.replace(/\s+/g, ' ').trim().slice(0, 80),
    is_button: !!button,
    submits_form: submits,
    form_has_card_fields: fields.some(isCard),
    form_has_password: fields.some((f) => (f.getAttribute('type') || '').toLowerCase() === 'password'),
    page_has_card_fields: [...document.querySelectorAll('input')].some(isCard),
    page_has_password: !!document.querySelector('input[type=password]'),
  });
}"""


async def check(action: Any, browser_session: Any, rules: SiteRules) -> str | None:
    """Why this action must be left to the person, or None. A press whose target cannot be read
    is refused on a site with a rule of its own, and let through where only the rule for every
    site applies (the agent would otherwise be stuck on any page that does not answer)."""
    dumped = action.model_dump(exclude_unset=True)
    name, params = next(((k, v) for k, v in dumped.items() if v is not None), ("", None))
    if name not in ("click", "send_keys", "evaluate") or not isinstance(params, dict):
        return None
    if name == "send_keys" and "enter" not in str(params.get("keys", "")).lower():
        return None
    try:
        url = await asyncio.wait_for(browser_session.get_current_page_url(), READ_TIMEOUT)
    except Exception:
        url = ""
    duties = rules.duties_at(url) if url else {}
    if not duties:
        return None
    try:
        if name == "evaluate":
            page = await asyncio.wait_for(_read_target("page", {}, browser_session), READ_TIMEOUT)
            return script_refusal(url, str(params.get("code", "")), page, rules)
        target = await asyncio.wait_for(_read_target(name, params, browser_session), READ_TIMEOUT)
    except Exception as error:
        log.warning("Could not read what the agent is about to press (%s)", type(error).__name__)
        if any(source != "the rule for every site" for source in duties.values()):
            return "The agent was about to press something on a site with a rule, and Handoff could not check what it was. Do this step yourself, then hand back."
        return None
    return refusal(url, target, rules)


async def _read_target(name: str, params: dict[str, Any], browser_session: Any) -> Target:
    if name == "click" and params.get("index") is not None:
        node = await browser_session.get_element_by_index(int(params["index"]))
        if node is None:
            return Target()
        cdp = await browser_session.cdp_client_for_node(node)
        resolved = await cdp.cdp_client.send.DOM.resolveNode(
            params={"backendNodeId": node.backend_node_id}, session_id=cdp.session_id
        )
        answer = await cdp.cdp_client.send.Runtime.callFunctionOn(
            params={
                "functionDeclaration": _TARGET_JS,
                "objectId": resolved["object"]["objectId"],
                "arguments": [{"value": False}],
                "returnByValue": True,
            },
            session_id=cdp.session_id,
        )
    else:
        if name == "click":
            x, y = int(params.get("coordinate_x") or 0), int(params.get("coordinate_y") or 0)
            element, enter = f"document.elementFromPoint({x}, {y})", "false"
        elif name == "page":
            element, enter = "document.body", "false"
        else:
            element, enter = "document.activeElement", "true"
        cdp = await browser_session.get_or_create_cdp_session()
        answer = await cdp.cdp_client.send.Runtime.evaluate(
            params={"expression": f"({_TARGET_JS}).call({element} || document.body, {enter})", "returnByValue": True},
            session_id=cdp.session_id,
        )
    value = answer.get("result", {}).get("value")
    return Target.from_page(json.loads(value) if isinstance(value, str) else None)
