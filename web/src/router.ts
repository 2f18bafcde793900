// A tiny history-API router: navigate(), a location hook, route matching and same-origin <a> click interception.
import { useEffect, useState } from 'preact/hooks';

export type Location = { path: string; search: URLSearchParams; hash: string };

const listeners = new Set<() => void>();

function current(): Location {
  return { path: location.pathname, search: new URLSearchParams(location.search), hash: location.hash.slice(1) };
}

function notify() {
  for (const l of listeners) l();
}

/** Paths the server answers itself (API, its docs, static assets): always a full page load. */
const serverPath = (p: string) => p === '/api' || p.startsWith('/api/') || p.startsWith('/assets/');

/** Goes to an in-app URL (pushState), or loads it for real when it is another origin or a server path. */
export function navigate(to: string, opts: { replace?: boolean } = {}) {
  const url = new URL(to, location.href);
  if (url.origin !== location.origin || serverPath(url.pathname)) {
    location.assign(url.href);
    return;
  }
  const replace = opts.replace || url.href === location.href;
  history[replace ? 'replaceState' : 'pushState'](null, '', url.pathname + url.search + url.hash);
  notify();
  if (!url.hash) window.scrollTo(0, 0);
}

/** Replaces the query string without a new history entry (search boxes). */
export function setSearch(params: URLSearchParams) {
  const s = params.toString();
  history.replaceState(null, '', location.pathname + (s ? `?${s}` : '') + location.hash);
  notify();
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return loc;
}

/** Matches "/c/:slug" against a path; returns the decoded params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.replace(/\/+$/, '').split('/');
  if (pattern === '/' ) return path === '/' ? {} : null;
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(':')) {
      if (!g) return null;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return null;
      }
    } else if (w !== g) return null;
  }
  return params;
}

/** Sends plain left clicks on same-origin links through navigate(); leaves everything else to the browser. */
export function interceptLinks(root: Document = document) {
  root.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || !a.hasAttribute('href') || a.hasAttribute('download') || a.dataset.native !== undefined) return;
    if (a.target && a.target !== '_self') return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || serverPath(url.pathname)) return;
    // Same page, only the fragment differs: let the browser scroll.
    if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
    e.preventDefault();
    navigate(url.href);
  });
  window.addEventListener('popstate', notify);
}
