"""Whether the person left a password or card details typed on a page they are handing back.

When control goes back, the agent reads the page again (its text and a screenshot go to the
model), so an unsent payment form would give the card number away. This looks at the page's
fields the way a person would: only fields someone can type into, only what was typed (not what
the page filled in), and only fields that say what they are for. Best effort by nature: fields
inside another site's frame cannot be read.
"""

from __future__ import annotations

import asyncio
import json
import logging

from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineScript

log = logging.getLogger(__name__)

PROBE = r"""
(() => {
  const TYPEABLE = new Set(['', 'text', 'tel', 'number', 'password', 'search', 'email', 'url']);
  const words = (el) => [el.name, el.id, el.placeholder, el.autocomplete, el.getAttribute('aria-label')]
    .join(' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')   // securityCode -> security Code
    .replace(/[_\-.]+/g, ' ')
    .toLowerCase();
  const luhn = (digits) => {
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  };
  const found = new Set();
  const check = (el) => {
    const isArea = el.tagName === 'TEXTAREA';
    if (!isArea && !TYPEABLE.has((el.getAttribute('type') || '').toLowerCase())) return;
    if (el.disabled || el.readOnly || !el.value || el.value === el.defaultValue) return;
    const hint = ' ' + words(el) + ' ';
    const autocomplete = (el.autocomplete || '').toLowerCase();
    if (el.type === 'password' || /(current|new)-password/.test(autocomplete) || / (password|passwd|pwd) /.test(hint)) {
      found.add('password');
      return;
    }
    const digits = el.value.replace(/[\s-]/g, '');
    if (autocomplete.startsWith('cc-') || / (card ?number|cc ?(num|number)?|cvv|cvc|csc|cvv2|security ?code|expiry|exp ?date) /.test(hint)) {
      found.add('card details');
    } else if (/^\d{13,19}$/.test(digits) && luhn(digits)) {
      found.add('card details');  // a card number typed into a field that does not say what it is
    }
  };
  const visit = (root) => {
    for (const el of root.querySelectorAll('input, textarea')) check(el);
    for (const host of root.querySelectorAll('*')) if (host.shadowRoot) visit(host.shadowRoot);
    for (const frame of root.querySelectorAll('iframe')) {
      try { if (frame.contentDocument) visit(frame.contentDocument); } catch (e) { /* another site's frame */ }
    }
  };
  visit(document);
  return JSON.stringify(Array.from(found));  // a string: arrays do not cross into Python reliably
})()
"""


async def secrets_left_on(page: QWebEnginePage, timeout: float = 1.0) -> list[str]:
    """The kinds found ("password", "card details"); empty when the page does not answer in time."""
    answer: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    world = QWebEngineScript.ScriptWorldId.ApplicationWorld  # the page's own scripts cannot interfere
    page.runJavaScript(PROBE, world, lambda value: answer.done() or answer.set_result(value))
    try:
        found = json.loads(str(await asyncio.wait_for(answer, timeout)))
    except (TimeoutError, ValueError) as error:
        log.info("Could not check the page for typed secrets (%s)", type(error).__name__)
        return []
    return [str(kind) for kind in found] if isinstance(found, list) else []
