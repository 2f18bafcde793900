// Browse by category (/categories): every category with its channel count and how many are live now, busiest first;
// each opens the search page filtered to it. The live counts follow broadcasts starting and ending (the socket says
// when; the page reloads the counts then).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Category } from '../api.ts';
import { EmptyState, ErrorState, Loading } from '../components/status.tsx';
import { hueOf } from '../format.ts';
import { useLiveDirectory } from '../live-state.ts';
import { useTitle } from '../title.ts';

type State = { status: 'loading' } | { status: 'error'; message: string } | { status: 'ready'; items: Category[] };

export function CategoriesPage() {
  useTitle('Categories');
  const [state, setState] = useState<State>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [changes, setChanges] = useState(0);
  const settle = useRef<ReturnType<typeof setTimeout>>(undefined);
  // broadcasts starting or ending together (a burst) reload the counts once
  useLiveDirectory(() => {
    clearTimeout(settle.current);
    settle.current = setTimeout(() => setChanges((n) => n + 1), 300);
  });
  useEffect(() => () => clearTimeout(settle.current), []);

  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => (s.status === 'ready' ? s : { status: 'loading' }));
    api
      .categories(ctl.signal)
      .then((r) => setState({ status: 'ready', items: r.items }))
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) setState({ status: 'error', message: err instanceof Error ? err.message : String(err) });
      });
    return () => ctl.abort();
  }, [attempt, changes]);

  return (
    <section>
      <div class="page-head">
        <div>
          <h1>Categories</h1>
          <p class="muted">Live channels first.</p>
        </div>
      </div>
      {state.status === 'loading' && <Loading label="Loading categories…" />}
      {state.status === 'error' && <ErrorState message={state.message} onRetry={() => setAttempt((n) => n + 1)} />}
      {state.status === 'ready' &&
        (state.items.length === 0 ? (
          <EmptyState title="No categories yet">
            <p class="muted">Channels appear here by the category their owners give them.</p>
          </EmptyState>
        ) : (
          <ul class="categories" data-testid="categories">
            {state.items.map((c) => (
              <li key={c.name}>
                <a class="category" href={`/search?category=${encodeURIComponent(c.name)}`} style={{ '--hue': String(hueOf(c.name)) }} data-testid="category">
                  <strong class="category-name">{c.name}</strong>
                  <span class="muted">
                    {c.channels} channel{c.channels === 1 ? '' : 's'}
                    {c.live > 0 && <span class="category-live"> · {c.live} live</span>}
                  </span>
                </a>
              </li>
            ))}
          </ul>
        ))}
    </section>
  );
}
