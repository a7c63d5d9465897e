// Handoff's privacy tracker. Runs in every frame of the Local browser, in an isolated script world:
// the page's own scripts and the agent's DevTools calls cannot see or change it.
//
// It records which fields received real (trusted) input and when, and which buttons were pressed;
// Python decides from the times which of those were the person's (the view is locked while the
// agent may act) and asks `report()` for where those fields are, so screenshots can be masked.
(() => {
  if (window.__handoffPrivacy) return;
  const MAX_TIMES = 64;
  const typed = new Map();   // element -> [input times, ms since the epoch]
  const pressed = [];        // {t, label}: trusted clicks on buttons and links
  const TYPEABLE = new Set(['', 'text', 'tel', 'number', 'password', 'search', 'email', 'url', 'date', 'month']);

  const editable = (el) => {
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      if (node.tagName === 'INPUT' || node.tagName === 'TEXTAREA' || node.tagName === 'SELECT') return node;
      if (node.isContentEditable && (!node.parentElement || !node.parentElement.isContentEditable)) return node;
    }
    return el && el.nodeType === 1 ? el : null;
  };

  const onInput = (event) => {
    if (!event.isTrusted) return;
    const field = editable(event.composedPath()[0]);
    if (!field) return;
    let times = typed.get(field);
    if (!times) typed.set(field, (times = []));
    times.push(Date.now());
    if (times.length > MAX_TIMES) times.shift();
  };
  // Not 'change': it fires when a field loses focus, so it would credit the agent's field to the
  // person who merely clicked elsewhere. Typing, pasting, dropping, autofill and selects all fire 'input'.
  addEventListener('input', onInput, true);
  // Started after the document was parsed (QtWebEngine does not inject into documents the agent's
  // DevTools navigation creates; Python starts the tracker there on its next read): fields already
  // filled count as filled now, and Python's rule (who could act now) decides whose they are.
  if (document.readyState !== 'loading') {
    const filled = (el) => el.value && el.value !== el.defaultValue;
    for (const el of document.querySelectorAll('input, textarea')) if (filled(el)) typed.set(el, [Date.now()]);
  }

  const clean = (text) => (text || '').replace(/\s+/g, ' ').trim().slice(0, 60);
  const buttonLabel = (el) => {
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const tag = node.tagName;
      const type = (node.getAttribute('type') || '').toLowerCase();
      if (tag === 'BUTTON' || tag === 'A' || node.getAttribute('role') === 'button' ||
          (tag === 'INPUT' && (type === 'submit' || type === 'button'))) {
        return clean(node.innerText || node.value || node.getAttribute('aria-label') || node.title);
      }
    }
    return '';
  };
  addEventListener('click', (event) => {
    if (!event.isTrusted) return;
    const label = buttonLabel(event.composedPath()[0]);
    if (!label) return;
    pressed.push({ t: Date.now(), label });
    if (pressed.length > MAX_TIMES) pressed.shift();
  }, true);

  const hints = (el) => [el.name, el.id, el.placeholder, el.getAttribute('aria-label'), el.getAttribute('autocomplete')]
    .join(' ').replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_\-.]+/g, ' ').toLowerCase();
  // Masked whoever filled them (the person, the agent from the vault, the site's autofill).
  const sensitive = (el) => {
    if (el.tagName !== 'INPUT' && el.tagName !== 'TEXTAREA') return false;
    const autocomplete = (el.getAttribute('autocomplete') || '').toLowerCase();
    if ((el.getAttribute('type') || '').toLowerCase() === 'password') return true;
    if (/(^| )(cc-|one-time-code|current-password|new-password)/.test(autocomplete)) return true;
    return / (card ?number|cc ?(num|number)|cvv|cvc|csc|cvv2|security ?code|expiry|exp ?date|password|passcode|otp) /
      .test(' ' + hints(el) + ' ');
  };
  const valueOf = (el) => {
    if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA') return el.value || '';
    if (el.tagName === 'SELECT') return el.selectedOptions.length ? clean(el.selectedOptions[0].text) : '';
    return el.innerText || '';
  };
  const labelOf = (el) => {
    let text = el.getAttribute('aria-label') || '';
    if (!text && el.labels && el.labels.length) {
      const label = el.labels[0].cloneNode(true);
      for (const inner of label.querySelectorAll('input, textarea, select')) inner.remove();
      text = label.innerText;
    }
    return clean(text || el.placeholder || el.name || el.id || el.tagName.toLowerCase());
  };
  const rectOf = (el) => {
    const r = el.getBoundingClientRect();
    return [r.left, r.top, r.width, r.height];
  };

  const allFields = (root, out) => {
    for (const el of root.querySelectorAll('input, textarea')) out.push(el);
    for (const host of root.querySelectorAll('*')) if (host.shadowRoot) allFields(host.shadowRoot, out);
    return out;
  };

  window.__handoffPrivacy = {
    // Everything Python needs to decide what to mask in this frame. Values leave this world only
    // to be removed from what the model reads; Python never logs or stores them.
    report() {
      const fields = [];
      const seen = new Set();
      const add = (el, times) => {
        if (seen.has(el) || !el.isConnected) return;
        seen.add(el);
        if (el.tagName === 'INPUT' && !TYPEABLE.has((el.getAttribute('type') || '').toLowerCase()) &&
            (el.getAttribute('type') || '').toLowerCase() !== 'password') return;  // checkboxes, radios, buttons
        const value = valueOf(el);
        if (!value) return;  // cleared: nothing left to hide
        fields.push({ rect: rectOf(el), label: labelOf(el), value, times: times || [], sensitive: sensitive(el) });
      };
      for (const [el, times] of typed) {
        if (!el.isConnected) typed.delete(el);
        else add(el, times);
      }
      for (const el of allFields(document, [])) if (sensitive(el)) add(el, typed.get(el));
      const frames = [];
      for (const frame of document.querySelectorAll('iframe, frame')) {
        const r = frame.getBoundingClientRect();
        const style = getComputedStyle(frame);
        const padLeft = parseFloat(style.paddingLeft || '0'), padTop = parseFloat(style.paddingTop || '0');
        const width = frame.clientWidth - padLeft - parseFloat(style.paddingRight || '0');
        const height = frame.clientHeight - padTop - parseFloat(style.paddingBottom || '0');
        frames.push({ rect: [r.left, r.top, r.width, r.height],
                      content: [r.left + frame.clientLeft + padLeft, r.top + frame.clientTop + padTop, width, height],
                      name: frame.name || '', src: frame.src || '' });
      }
      return JSON.stringify({
        url: location.href, dpr: window.devicePixelRatio, scroll: [scrollX, scrollY],
        viewport: [innerWidth, innerHeight], fields, frames, pressed: pressed.slice(),
      });
    },
  };
})();
