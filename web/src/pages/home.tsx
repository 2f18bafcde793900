// Home: every channel as a card, newest first, with the search box (the same as the header's: it searches with the
// search API and opens /search) and category/tag filters from the URL.
import { useEffect, useState } from 'preact/hooks';
import { api, type Channel } from '../api.ts';
import { ChannelCard } from '../components/channel-card.tsx';
import { SearchBox } from '../components/search-box.tsx';
import { EmptyState, ErrorState, Loading } from '../components/status.tsx';
import { navigate, setSearch, useLocation } from '../router.ts';
import { useSession } from '../session.ts';
import { useTitle } from '../title.ts';

const PAGE = 24;

type State =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'ready'; items: Channel[]; total: number; more: 'idle' | 'loading' | 'error' };

export function HomePage() {
  useTitle(null);
  const { search } = useLocation();
  const { user } = useSession();
  const q = search.get('q') ?? '';
  const category = search.get('category') ?? '';
  const tag = search.get('tag') ?? '';
  const [state, setState] = useState<State>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  // an old link to a home search (/?q=) opens the one search there is; after this render's effects, so the app's
  // location listener (a parent's effect, run after this one on the first render) hears it
  useEffect(() => {
    if (!q) return;
    const timer = window.setTimeout(() => navigate(`/search?q=${encodeURIComponent(q)}`, { replace: true }));
    return () => window.clearTimeout(timer);
  }, [q]);

  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => (s.status === 'ready' ? s : { status: 'loading' }));
    api
      .channels({ category, tag, limit: PAGE }, ctl.signal)
      .then((page) => setState({ status: 'ready', items: page.items, total: page.total, more: 'idle' }))
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) setState({ status: 'error', message: err instanceof Error ? err.message : String(err) });
      });
    return () => ctl.abort();
  }, [category, tag, attempt]);

  const clearFilter = (name: 'category' | 'tag') => {
    const next = new URLSearchParams(location.search);
    next.delete(name);
    setSearch(next);
  };

  const loadMore = async () => {
    if (state.status !== 'ready') return;
    setState({ ...state, more: 'loading' });
    try {
      const page = await api.channels({ category, tag, limit: PAGE, offset: state.items.length });
      const seen = new Set(state.items.map((c) => c.id));
      setState({ status: 'ready', items: [...state.items, ...page.items.filter((c) => !seen.has(c.id))], total: page.total, more: 'idle' });
    } catch {
      setState({ ...state, more: 'error' });
    }
  };

  const filtered = Boolean(category || tag);

  return (
    <section>
      <div class="page-head home-head">
        <div>
          <h1>Channels</h1>
          <p class="muted">
            {state.status === 'ready'
              ? `${state.total} channel${state.total === 1 ? '' : 's'}${filtered ? ' found' : ''}`
              : 'Find something to watch.'}
          </p>
        </div>
        <SearchBox place="home" />
      </div>

      {(category || tag) && (
        <div class="filters" data-testid="active-filters">
          <span class="muted">Filtered by</span>
          {category && (
            <button type="button" class="chip chip-category chip-removable" onClick={() => clearFilter('category')} aria-label={`Remove category filter ${category}`}>
              {category} <span aria-hidden="true">×</span>
            </button>
          )}
          {tag && (
            <button type="button" class="chip chip-removable" onClick={() => clearFilter('tag')} aria-label={`Remove tag filter ${tag}`}>
              #{tag} <span aria-hidden="true">×</span>
            </button>
          )}
        </div>
      )}

      {state.status === 'loading' && <Loading label="Loading channels…" />}
      {state.status === 'error' && <ErrorState message={state.message} onRetry={() => setAttempt((n) => n + 1)} />}
      {state.status === 'ready' &&
        (state.items.length === 0 ? (
          filtered ? (
            <EmptyState title="No channels match" testid="empty-search">
              <p class="muted">No channel has this category or tag yet.</p>
              <a class="btn btn-secondary" href="/">
                Show all channels
              </a>
            </EmptyState>
          ) : (
            <EmptyState title="No channels yet">
              <p class="muted">Be the first to start one: create a channel, grab a stream key and go live.</p>
              <a class="btn btn-primary" href={user ? '/me/channels' : '/sign-up?next=/me/channels'} data-testid="empty-create-channel">
                Create a channel
              </a>
            </EmptyState>
          )
        ) : (
          <>
            <ul class="grid" data-testid="channel-grid">
              {state.items.map((c) => (
                <ChannelCard key={c.id} channel={c} />
              ))}
            </ul>
            {state.items.length < state.total && (
              <div class="load-more">
                <button type="button" class="btn btn-secondary" onClick={loadMore} disabled={state.more === 'loading'} data-testid="load-more">
                  {state.more === 'loading' ? 'Loading…' : state.more === 'error' ? 'Could not load more; try again' : 'Show more'}
                </button>
              </div>
            )}
          </>
        ))}
    </section>
  );
}
