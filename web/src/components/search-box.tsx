// The search box, the one behind every search field (the header's, the home page's): instant results from the search
// API as you type (debounced, the previous request aborted), a listbox you can walk with the arrow keys, Enter to open
// the highlighted hit or the results page (/search), which asks the same API.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, hitHref, type SearchHit } from '../api.ts';
import { SEARCH_QUERY_MAX } from '../../../shared/bounds.ts';
import { navigate, useLocation } from '../router.ts';
import { KindBadge } from './search-hit.tsx';

const INSTANT = 6;
const DEBOUNCE_MS = 150;

type State = { status: 'idle' } | { status: 'loading' } | { status: 'error' } | { status: 'ready'; q: string; items: SearchHit[]; total: number };

/** Where a box sits: its element ids, test ids and wording. */
const PLACES = {
  header: { id: 'header-search', testid: 'header-search', input: 'header-search-input', placeholder: 'Search' },
  home: { id: 'home-search', testid: 'search-form', input: 'search-input', placeholder: 'Search channels, live streams and videos' },
};

export function SearchBox({ place = 'header' }: { place?: keyof typeof PLACES }) {
  const at = PLACES[place];
  const { path, search } = useLocation();
  const [text, setText] = useState(path === '/search' ? (search.get('q') ?? '') : '');
  const [open, setOpen] = useState(false);
  const [state, setState] = useState<State>({ status: 'idle' });
  const [active, setActive] = useState(-1);
  const ref = useRef<HTMLFormElement>(null);
  const q = text.trim();

  useEffect(() => {
    setOpen(false);
    if (path !== '/search') setText('');
  }, [path]);

  useEffect(() => {
    if (!q) return setState({ status: 'idle' });
    const ctl = new AbortController();
    const timer = window.setTimeout(() => {
      setState((s) => (s.status === 'ready' ? s : { status: 'loading' }));
      api
        .search({ q, limit: INSTANT }, ctl.signal)
        .then((page) => setState({ status: 'ready', q, items: page.items, total: page.total }))
        .catch(() => {
          if (!ctl.signal.aborted) setState({ status: 'error' });
        });
    }, DEBOUNCE_MS);
    return () => {
      window.clearTimeout(timer);
      ctl.abort();
    };
  }, [q]);

  useEffect(() => {
    if (!open) return;
    const onClick = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('click', onClick);
    return () => document.removeEventListener('click', onClick);
  }, [open]);

  const items = state.status === 'ready' ? state.items : [];
  const showAll = () => {
    if (!q) return;
    setOpen(false);
    navigate(`/search?q=${encodeURIComponent(q)}`);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setOpen(true);
      const n = items.length;
      if (n) setActive((i) => (e.key === 'ArrowDown' ? (i + 1) % n : (i <= 0 ? n : i) - 1));
    } else if (e.key === 'Escape') {
      setOpen(false);
      setActive(-1);
    }
  };
  const onSubmit = (e: Event) => {
    e.preventDefault();
    const hit = open && state.status === 'ready' && state.q === q ? items[active] : undefined;
    if (hit) {
      setOpen(false);
      navigate(hitHref(hit));
    } else showAll();
  };

  return (
    <form class={`search ${at.id}`} role="search" ref={ref} onSubmit={onSubmit} data-testid={at.testid}>
      <label for={`${at.id}-q`} class="sr-only">
        Search channels, live streams and videos
      </label>
      <svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true" class="search-icon">
        <circle cx="9" cy="9" r="6" fill="none" stroke="currentColor" stroke-width="2" />
        <path d="M14 14l4 4" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
      </svg>
      <input
        id={`${at.id}-q`}
        type="search"
        placeholder={at.placeholder}
        autocomplete="off"
        maxLength={SEARCH_QUERY_MAX}
        value={text}
        role="combobox"
        list={undefined} /* Preact's typings ask a combobox input for a datalist; the listbox below is ours */
        aria-expanded={open && Boolean(q)}
        aria-controls={`${at.id}-results`}
        aria-activedescendant={active >= 0 ? `${at.id}-option-${active}` : undefined}
        onInput={(e) => {
          setText(e.currentTarget.value);
          setOpen(true);
          setActive(-1); // a highlight belongs to the results of what was typed before
        }}
        onFocus={() => setOpen(true)}
        onKeyDown={onKeyDown}
        data-testid={at.input}
      />
      {open && q && (
        <div class="search-panel" data-testid="search-instant">
          {state.status === 'loading' && <p class="search-note muted">Searching…</p>}
          {state.status === 'error' && <p class="search-note">Search is not answering; try again in a moment.</p>}
          {state.status === 'ready' && state.items.length === 0 && <p class="search-note muted">Nothing matches “{state.q}”.</p>}
          {items.length > 0 && (
            <ul class="search-options" role="listbox" id={`${at.id}-results`} aria-label="Instant results">
              {items.map((h, i) => (
                <li key={`${h.kind}:${h.id}`} id={`${at.id}-option-${i}`} role="option" aria-selected={i === active}>
                  <a href={hitHref(h)} class={`search-option${i === active ? ' active' : ''}`} onClick={() => setOpen(false)} data-testid="search-option">
                    <KindBadge kind={h.kind} />
                    <span class="search-option-text">
                      <span class="search-option-title">{h.title}</span>
                      <span class="search-option-meta muted">{h.kind === 'vod' ? h.channel.title : h.category || h.channel.slug}</span>
                    </span>
                  </a>
                </li>
              ))}
            </ul>
          )}
          {state.status === 'ready' && state.total > 0 && (
            <button type="button" class="search-all" onClick={showAll} data-testid="search-all">
              All {state.total} result{state.total === 1 ? '' : 's'} for “{state.q}”
            </button>
          )}
        </div>
      )}
    </form>
  );
}
