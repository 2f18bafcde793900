// Search results (/search?q=&type=&category=&when=&live=): channels, live streams and videos, with filters kept in the
// URL so a search can be shared and the back button restores it. An empty query browses (a category's channels).
import { useEffect, useState } from 'preact/hooks';
import { api, type SearchHit, type SearchKind, type SearchParams } from '../api.ts';
import { useCategories } from '../categories.ts';
import { SearchHitRow } from '../components/search-hit.tsx';
import { EmptyState, ErrorState, Loading, LoadMore } from '../components/status.tsx';
import { setSearch, useLocation } from '../router.ts';
import { useTitle } from '../title.ts';

const PAGE = 20;
const TYPES: { value: '' | SearchKind; label: string }[] = [
  { value: '', label: 'All' },
  { value: 'live', label: 'Live now' },
  { value: 'channel', label: 'Channels' },
  { value: 'vod', label: 'Videos' },
];
const WHEN: Record<string, { label: string; days: number }> = {
  day: { label: 'Past day', days: 1 },
  week: { label: 'Past week', days: 7 },
  month: { label: 'Past month', days: 31 },
  year: { label: 'Past year', days: 366 },
};

type State =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'ready'; items: SearchHit[]; total: number; more: 'idle' | 'loading' | 'error' };

export function SearchPage() {
  const { search } = useLocation();
  const q = search.get('q') ?? '';
  const type = (search.get('type') ?? '') as '' | SearchKind;
  const category = search.get('category') ?? '';
  const when = search.get('when') ?? '';
  useTitle(q ? `“${q}”` : category || 'Search');
  const [state, setState] = useState<State>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const categories = useCategories();

  const params = (offset: number): SearchParams => ({
    q,
    type: type || undefined,
    category: category || undefined,
    // a day's boundary, so the URL (and the cache) stays the same through the day
    from: WHEN[when] ? new Date(Date.now() - WHEN[when].days * 86_400_000).toISOString().slice(0, 10) : undefined,
    limit: PAGE,
    offset,
  });

  useEffect(() => {
    const ctl = new AbortController();
    setState({ status: 'loading' });
    api
      .search(params(0), ctl.signal)
      .then((page) => setState({ status: 'ready', items: page.items, total: page.total, more: 'idle' }))
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) setState({ status: 'error', message: err instanceof Error ? err.message : String(err) });
      });
    return () => ctl.abort();
  }, [q, type, category, when, attempt]);

  const set = (name: string, value: string) => {
    const next = new URLSearchParams(location.search);
    if (value) next.set(name, value);
    else next.delete(name);
    setSearch(next);
  };

  const loadMore = async () => {
    if (state.status !== 'ready') return;
    setState({ ...state, more: 'loading' });
    try {
      const page = await api.search(params(state.items.length));
      setState({ status: 'ready', items: [...state.items, ...page.items], total: page.total, more: 'idle' });
    } catch {
      setState({ ...state, more: 'error' });
    }
  };

  return (
    <section class="search-page">
      <div class="page-head">
        <div>
          <h1>{q ? <>Results for “{q}”</> : category || 'Search'}</h1>
          <p class="muted" data-testid="search-count">
            {state.status === 'ready' ? `${state.total} result${state.total === 1 ? '' : 's'}` : 'Channels, live streams and videos'}
          </p>
        </div>
      </div>

      <div class="search-filters" data-testid="search-filters">
        <div class="segmented" role="group" aria-label="What to show">
          {TYPES.map((t) => (
            <button type="button" key={t.value} class={type === t.value ? 'active' : ''} aria-pressed={type === t.value} onClick={() => set('type', t.value)} data-testid={`filter-type-${t.value || 'all'}`}>
              {t.label}
            </button>
          ))}
        </div>
        <label class="filter">
          <span class="sr-only">Category</span>
          <select value={category} onChange={(e) => set('category', e.currentTarget.value)} data-testid="filter-category">
            <option value="">Any category</option>
            {category && !categories.some((c) => c.name.toLowerCase() === category.toLowerCase()) && <option value={category}>{category}</option>}
            {categories.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name} ({c.channels})
              </option>
            ))}
          </select>
        </label>
        <label class="filter">
          <span class="sr-only">When</span>
          <select value={when} onChange={(e) => set('when', e.currentTarget.value)} data-testid="filter-when">
            <option value="">Any time</option>
            {Object.entries(WHEN).map(([k, w]) => (
              <option key={k} value={k}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
      </div>

      {state.status === 'loading' && <Loading label="Searching…" />}
      {state.status === 'error' && <ErrorState message={state.message} onRetry={() => setAttempt((n) => n + 1)} />}
      {state.status === 'ready' &&
        (state.items.length === 0 ? (
          <EmptyState title="Nothing matches" testid="search-empty">
            <p class="muted">Check the spelling, use fewer words, or clear the filters.</p>
            <a class="btn btn-secondary" href="/categories">
              Browse categories
            </a>
          </EmptyState>
        ) : (
          <>
            <ul class="hits" data-testid="search-results">
              {state.items.map((h) => (
                <SearchHitRow key={`${h.kind}:${h.id}`} hit={h} />
              ))}
            </ul>
            {state.items.length < state.total && state.items.length < 1000 && (
              <LoadMore more={state.more} onClick={loadMore} testid="search-more" />
            )}
          </>
        ))}
    </section>
  );
}
