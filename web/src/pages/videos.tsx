// The videos page (/videos?category=&language=&duration=&date=&source=&sort=): the catalog of ready, listed videos,
// uploads and past broadcasts, with its filters and sort in the URL so a view can be shared and the back button
// restores it; more pages on demand (the API's cursor).
import { useEffect, useState } from 'preact/hooks';
import { api, type VideoParams, type Vod } from '../api.ts';
import { useCategories } from '../categories.ts';
import { EmptyState, ErrorState, Loading, LoadMore } from '../components/status.tsx';
import { VideoCard } from '../components/video-card.tsx';
import { setSearch, useLocation } from '../router.ts';
import { useTitle } from '../title.ts';
import { LANGUAGES } from '../../../shared/vod-catalog.ts';

const PAGE = 24;
const DURATIONS = { short: 'Under 4 minutes', medium: '4–20 minutes', long: 'Over 20 minutes' } as const;
const DATES = { today: 'Today', week: 'This week', month: 'This month', year: 'This year' } as const;
const SOURCES = { upload: 'Uploads', broadcast: 'Past broadcasts' } as const;
const SORTS = { newest: 'Newest', views: 'Most viewed' } as const;

type State =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'ready'; items: Vod[]; next: string | null; more: 'idle' | 'loading' | 'error' };

/** A URL parameter, if it is one of `allowed`'s keys. */
const pick = <T extends Record<string, string>>(search: URLSearchParams, name: string, allowed: T) => {
  const v = search.get(name) ?? '';
  return (v in allowed ? v : '') as '' | (keyof T & string);
};

export function VideosPage() {
  const { search } = useLocation();
  const category = search.get('category') ?? '';
  const language = pick(search, 'language', LANGUAGES);
  const length = pick(search, 'duration', DURATIONS);
  const date = pick(search, 'date', DATES);
  const source = pick(search, 'source', SOURCES);
  const sort = pick(search, 'sort', SORTS) || 'newest';
  useTitle('Videos');
  const [state, setState] = useState<State>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const categories = useCategories();

  const params = (cursor?: string): VideoParams => ({
    category: category || undefined,
    language: language || undefined,
    duration: length || undefined,
    date: date || undefined,
    source: source || undefined,
    sort,
    limit: PAGE,
    cursor,
  });

  useEffect(() => {
    const ctl = new AbortController();
    setState({ status: 'loading' });
    api
      .videos(params(), ctl.signal)
      .then((page) => setState({ status: 'ready', items: page.items, next: page.nextCursor, more: 'idle' }))
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) setState({ status: 'error', message: err instanceof Error ? err.message : String(err) });
      });
    return () => ctl.abort();
  }, [category, language, length, date, source, sort, attempt]);

  const set = (name: string, value: string) => {
    const next = new URLSearchParams(location.search);
    if (value) next.set(name, value);
    else next.delete(name);
    setSearch(next);
  };

  const loadMore = async () => {
    if (state.status !== 'ready' || !state.next) return;
    setState({ ...state, more: 'loading' });
    try {
      const page = await api.videos(params(state.next));
      setState({ status: 'ready', items: [...state.items, ...page.items], next: page.nextCursor, more: 'idle' });
    } catch {
      setState({ ...state, more: 'error' });
    }
  };

  const select = (name: string, label: string, value: string, any: string, options: Record<string, string>) => (
    <label class="filter">
      <span class="sr-only">{label}</span>
      <select value={value} onChange={(e) => set(name, e.currentTarget.value)} data-testid={`videos-${name}`}>
        <option value="">{any}</option>
        {Object.entries(options).map(([k, v]) => (
          <option key={k} value={k}>
            {v}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <section class="videos-page" data-testid="videos-page">
      <div class="page-head">
        <div>
          <h1>Videos</h1>
          <p class="muted">Uploads and past broadcasts from every channel</p>
        </div>
      </div>

      <div class="search-filters videos-filters" data-testid="videos-filters">
        <div class="segmented" role="group" aria-label="Sort by">
          {Object.entries(SORTS).map(([k, label]) => (
            <button type="button" key={k} class={sort === k ? 'active' : ''} aria-pressed={sort === k} onClick={() => set('sort', k === 'newest' ? '' : k)} data-testid={`videos-sort-${k}`}>
              {label}
            </button>
          ))}
        </div>
        {select('category', 'Category', category, 'Any category', {
          ...(category && !categories.some((c) => c.name === category) ? { [category]: category } : {}),
          ...Object.fromEntries(categories.map((c) => [c.name, c.name])),
        })}
        {select('language', 'Language', language, 'Any language', LANGUAGES)}
        {select('duration', 'Length', length, 'Any length', DURATIONS)}
        {select('date', 'Published', date, 'Any time', DATES)}
        {select('source', 'Kind', source, 'Uploads and broadcasts', SOURCES)}
      </div>

      {state.status === 'loading' && <Loading label="Loading videos…" />}
      {state.status === 'error' && <ErrorState message={state.message} onRetry={() => setAttempt((n) => n + 1)} />}
      {state.status === 'ready' &&
        (state.items.length === 0 ? (
          <EmptyState title="No videos here yet" testid="videos-empty">
            <p class="muted">Clear a filter or two to see more.</p>
          </EmptyState>
        ) : (
          <>
            <ul class="video-grid" data-testid="videos-grid">
              {state.items.map((v) => (
                <VideoCard key={v.id} vod={v} />
              ))}
            </ul>
            {state.next && (
              <LoadMore more={state.more} onClick={loadMore} testid="videos-more" />
            )}
          </>
        ))}
    </section>
  );
}
