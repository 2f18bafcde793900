// In-page checks for the layout and accessibility suites (tests/web/layout.test.ts, tests/web/a11y.test.ts), added to
// a page with page.addScriptTag({ path }) as `window.glintProbe`. Plain browser JavaScript on purpose: functions that
// go through tsx gain `__name(...)` wrappers that do not exist in the page.
// Every problem is one line a person can act on: what, where (a short selector) and the numbers.
(() => {
  const OPTS = { checkOpacity: true, checkVisibilityCSS: true };

  /** A short selector for `el`: its data-testid, id or first classes, with ancestors until one has a testid or id. */
  function describe(el) {
    const part = (e) => {
      const tag = e.tagName.toLowerCase();
      const testid = e.getAttribute('data-testid');
      if (testid) return `${tag}[data-testid="${testid}"]`;
      if (e.id) return `${tag}#${e.id}`;
      const cls = [...e.classList].slice(0, 2);
      return cls.length ? `${tag}.${cls.join('.')}` : tag;
    };
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      parts.unshift(part(e));
      if (e.getAttribute('data-testid') || e.id) break;
    }
    return parts.join(' > ');
  }

  const box = (r) => `x=${Math.round(r.left)} y=${Math.round(r.top)} ${Math.round(r.right - r.left)}×${Math.round(r.bottom - r.top)}`;

  /** Rendered, not visibility:hidden and not fully transparent. */
  const shown = (el) => el.checkVisibility(OPTS);

  /** Visually hidden on purpose (the .sr-only idiom: a 1px clipped box). */
  const srOnly = (el) => !!el.closest('.sr-only, .visually-hidden, [data-sr-only]');

  /** `el`'s box as far as it can be seen: cut by every ancestor that clips its overflow (null when nothing is left). */
  function visibleRect(el) {
    const r = el.getBoundingClientRect();
    let rect = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    for (let a = el.parentElement; a && a !== document.body && a !== document.documentElement; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.position === 'fixed') break;
      const ar = a.getBoundingClientRect();
      if (s.overflowX !== 'visible') rect = { ...rect, left: Math.max(rect.left, ar.left), right: Math.min(rect.right, ar.right) };
      if (s.overflowY !== 'visible') rect = { ...rect, top: Math.max(rect.top, ar.top), bottom: Math.min(rect.bottom, ar.bottom) };
    }
    return rect.right - rect.left > 0.5 && rect.bottom - rect.top > 0.5 ? rect : null;
  }

  /** Whether an ancestor (below body) clips or scrolls `el` horizontally: then `el` cannot widen the page. */
  function insideHorizontalClip(el) {
    for (let a = el.parentElement; a && a !== document.body && a !== document.documentElement; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX !== 'visible' || s.position === 'fixed') return true;
    }
    return false;
  }

  const overlap = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));

  function header() {
    return document.querySelector('.site-header') ?? document.querySelector('body header');
  }

  /** Popups (menus, listboxes, dialogs) may overlap what they open from. */
  const POPUP = '[role="menu"], [role="listbox"], [role="dialog"], [role="tooltip"], [data-popup]';

  /** Horizontal overflow: the page wider than the window, and the outermost elements that make it so. */
  function overflow() {
    const doc = document.documentElement;
    const width = window.innerWidth;
    if (doc.scrollWidth <= width) return [];
    const culprits = [];
    for (const el of document.body.querySelectorAll('*')) {
      if (!shown(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || (r.right <= width + 0.5 && r.left >= -0.5)) continue;
      if (getComputedStyle(el).position === 'fixed' || insideHorizontalClip(el)) continue;
      if (culprits.some((c) => c.contains(el))) continue;
      culprits.push(el);
    }
    const list = culprits.slice(0, 6).map((el) => `${describe(el)} (${box(el.getBoundingClientRect())})`);
    return [`the page scrolls sideways: scrollWidth ${doc.scrollWidth} > innerWidth ${width}; widest: ${list.join('; ') || 'none found'}`];
  }

  /** Anything outside the sticky header that overlaps its box (at the top of the page). */
  function overHeader() {
    const h = header();
    if (!h) return ['no site header (.site-header) on the page'];
    const hr = h.getBoundingClientRect();
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
      if (h.contains(el) || el.contains(h) || !shown(el) || srOnly(el)) continue;
      const r = visibleRect(el);
      if (!r || overlap(r, hr) < 2) continue;
      if (out.some((o) => o.el.contains(el))) continue;
      out.push({ el, r });
    }
    return out.slice(0, 6).map(({ el, r }) => `${describe(el)} (${box(r)}) overlaps the header (${box(hr)})`);
  }

  /** The header's own items: none overlaps another, none sticks out of the header or the window. */
  function headerSelf() {
    const h = header();
    if (!h) return [];
    const hr = h.getBoundingClientRect();
    const items = [...h.querySelectorAll('a, button, input, select, textarea, .logo, [role="search"]')].filter(
      (el) => shown(el) && !srOnly(el) && !el.closest(POPUP) && visibleRect(el),
    );
    // the innermost items only (an input, not also the form around it): one line per collision
    const leaves = items.filter((el) => !items.some((other) => other !== el && el.contains(other)));
    const out = [];
    for (const el of items) {
      const r = el.getBoundingClientRect();
      const v = visibleRect(el);
      if (v.top < hr.top - 1 || v.bottom > hr.bottom + 1 || v.left < -1 || v.right > window.innerWidth + 1) {
        out.push(`header item ${describe(el)} (${box(v)}) sticks out of the header (${box(hr)}) or the window (${window.innerWidth} wide)`);
      }
      if (v.right - v.left < r.width - 2) out.push(`header item ${describe(el)} is cut off: ${Math.round(v.right - v.left)} of ${Math.round(r.width)} px wide shown`);
    }
    for (let i = 0; i < leaves.length; i++) {
      for (let j = i + 1; j < leaves.length; j++) {
        const [a, b] = [leaves[i], leaves[j]];
        const area = overlap(visibleRect(a), visibleRect(b));
        if (area >= 2) out.push(`header items overlap (${Math.round(area)} px²): ${describe(a)} (${box(visibleRect(a))}) and ${describe(b)} (${box(visibleRect(b))})`);
      }
    }
    return out;
  }

  /** List items showing the browser's default markers (a list the stylesheet forgot), unless allowed. */
  function bullets(allowed) {
    const lists = new Map();
    for (const li of document.querySelectorAll('#app li')) {
      if (!shown(li) || (allowed && li.closest(allowed))) continue;
      const s = getComputedStyle(li);
      if (s.display !== 'list-item' || (s.listStyleType === 'none' && s.listStyleImage === 'none')) continue;
      const list = li.parentElement;
      const seen = lists.get(list) ?? { n: 0, type: s.listStyleType };
      seen.n++;
      lists.set(list, seen);
    }
    return [...lists].map(([list, { n, type }]) => `${describe(list)} shows list markers (list-style-type: ${type}) on ${n} item(s)`);
  }

  const SHOULD_SHOW =
    'a[href], button, input:not([type="hidden"]), select, textarea, img, video, canvas, svg, h1, h2, h3, label, [role="button"], [data-testid]';
  const REPLACED = new Set(['IMG', 'VIDEO', 'CANVAS', 'SVG', 'INPUT', 'SELECT', 'TEXTAREA', 'BUTTON']);

  /** Elements that are rendered and have something to show, yet take no space (collapsed by a missing rule). */
  function zeroSize() {
    const out = [];
    for (const el of document.querySelectorAll(`#app :is(${SHOULD_SHOW})`)) {
      if (!shown(el) || srOnly(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.width >= 1 && r.height >= 1) continue;
      const content = REPLACED.has(el.tagName.toUpperCase()) || (el.textContent ?? '').trim() !== '' || el.querySelector('img, svg, video, canvas');
      if (!content) continue;
      if (out.some((o) => o.contains(el))) continue;
      out.push(el);
    }
    return out.slice(0, 8).map((el) => `${describe(el)} is rendered but has no size (${box(el.getBoundingClientRect())})`);
  }

  /** Images shown as the browser's broken-image box (the file is missing or not an image): a page should put its own
   * placeholder there. Lazy images not fetched yet are not complete and are left out. */
  function brokenImages() {
    const out = [];
    for (const img of document.querySelectorAll('#app img[src]')) {
      if (!shown(img) || !img.complete || img.naturalWidth > 0) continue;
      out.push(`${describe(img)} failed to load (${img.getAttribute('src')}) and shows as a broken image`);
    }
    return out.slice(0, 8);
  }

  /** All layout checks at the current window size, scrolled to the top. */
  function layout(opts = {}) {
    window.scrollTo(0, 0);
    return {
      overflow: overflow(),
      header: [...overHeader(), ...headerSelf()],
      bullets: bullets(opts.bulletsAllowed),
      zeroSize: zeroSize(),
      broken: brokenImages(),
    };
  }

  /** What a visible focus indicator needs: an outline, or a box-shadow that differs from the unfocused one. */
  function focusStyle(el) {
    const s = getComputedStyle(el);
    return { outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1 ? `${s.outlineWidth} ${s.outlineStyle}` : '', shadow: s.boxShadow };
  }

  /** Controls a keyboard user must be able to reach: visible, enabled, not taken out of the tab order. */
  function focusables() {
    const sel = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, [tabindex], video[controls], [contenteditable="true"]';
    return [...document.querySelectorAll(`#app :is(${sel})`)]
      .filter((el) => shown(el) && !el.disabled && el.tabIndex >= 0 && !el.closest('[inert], [aria-hidden="true"]') && visibleRect(el))
      .filter((el) => !(el.matches('[tabindex="-1"]')));
  }

  /** Form fields without an accessible name (no label, aria-label, aria-labelledby or title). */
  function unlabeled() {
    const out = [];
    for (const el of document.querySelectorAll('#app :is(input:not([type="hidden"]):not([type="submit"]):not([type="button"]), select, textarea)')) {
      if (!shown(el)) continue;
      const named = (el.labels && [...el.labels].some((l) => l.textContent.trim())) || el.getAttribute('aria-label')?.trim() || el.getAttribute('aria-labelledby') || el.getAttribute('title')?.trim();
      if (!named) out.push(`${describe(el)} has no label (no <label>, aria-label, aria-labelledby or title)`);
    }
    return out;
  }

  window.glintProbe = { describe, layout, focusStyle, focusables, unlabeled };
})();
