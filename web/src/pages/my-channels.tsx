// "My channels": the signed-in user's channels, a form to create one, and per channel its management panel. Until a
// new streamer has a channel with a stream key, the three steps to a first broadcast, the current one highlighted.
import { useEffect, useState } from 'preact/hooks';
import { api, type Channel } from '../api.ts';
import { ChannelForm } from '../components/channel-form.tsx';
import { ChannelManager } from '../components/channel-manager.tsx';
import { RoleBadge } from '../components/layout.tsx';
import { EmptyState, ErrorState, Loading } from '../components/status.tsx';
import { navigate } from '../router.ts';
import { useSession } from '../session.ts';
import { useTitle } from '../title.ts';

type State = { status: 'loading' } | { status: 'error'; message: string } | { status: 'ready'; channels: Channel[] };

const STEPS = [
  { title: 'Create a channel', text: 'A title, and the address viewers find it at.' },
  { title: 'Get a stream key', text: 'It lets your broadcast in: one per setup, so you can revoke one alone.' },
  { title: 'Go live', text: 'From the studio in your browser, or from OBS with the RTMP server and your key.' },
] as const;

/** The steps to a first broadcast; `current` is the one to do now (0-based). */
function NextSteps({ current, studio }: { current: number; studio: string | null }) {
  return (
    <section class="panel onboarding" aria-labelledby="onboarding-heading" data-testid="onboarding">
      <h2 id="onboarding-heading">Your first broadcast in three steps</h2>
      <ol class="steps">
        {STEPS.map((s, i) => {
          const state = i < current ? 'done' : i === current ? 'current' : 'todo';
          return (
            <li key={s.title} class={`step step-${state}`} aria-current={state === 'current' ? 'step' : undefined} data-testid="onboarding-step" data-state={state}>
              <span class="step-mark" aria-hidden="true">
                {state === 'done' ? '✓' : i + 1}
              </span>
              <span class="step-text">
                <strong>{s.title}</strong>
                <span class="muted small">{state === 'done' ? 'Done.' : s.text}</span>
                {i === 2 && state === 'current' && studio && (
                  <a class="btn btn-primary btn-sm" href={`/studio/${studio}`} data-testid="onboarding-studio">
                    Open studio
                  </a>
                )}
              </span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}

export function MyChannelsPage() {
  useTitle('My channels');
  const session = useSession();
  const user = session.user;
  const [state, setState] = useState<State>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [creating, setCreating] = useState(false);
  const [openSlug, setOpenSlug] = useState<string | null>(() => location.hash.slice(1) || null);
  const [notice, setNotice] = useState<string | null>(null);
  // stream keys per channel, as each channel's key list reports them
  const [keyCounts, setKeyCounts] = useState<Record<string, number>>({});
  // a key made on this visit, by a streamer still on the steps: the last one (go live) stays in view
  const [firstKey, setFirstKey] = useState<string | null>(null);

  useEffect(() => {
    if (session.status === 'ready' && !user) navigate('/sign-in?next=/me/channels', { replace: true });
  }, [session.status, user]);

  useEffect(() => {
    if (!user) return;
    let live = true;
    setState({ status: 'loading' });
    api.channels({ owner: 'me', limit: 100 }).then(
      (page) => {
        if (!live) return;
        setState({ status: 'ready', channels: page.items });
        if (page.items.length === 0) setCreating(true);
        else if (page.items.length === 1 && !location.hash) setOpenSlug(page.items[0]!.slug);
      },
      (err: unknown) => live && setState({ status: 'error', message: err instanceof Error ? err.message : String(err) }),
    );
    return () => {
      live = false;
    };
  }, [user?.id, attempt]);

  if (session.status === 'loading' || !user) return <Loading />;

  const channels = state.status === 'ready' ? state.channels : [];
  const replace = (slug: string, next: Channel) =>
    setState({ status: 'ready', channels: channels.map((c) => (c.slug === slug ? next : c)) });
  // the steps: while there is no channel, while the one channel has no key, and just after its first key
  const only = channels.length === 1 ? channels[0]! : null;
  const step =
    state.status !== 'ready' ? null : channels.length === 0 ? 0 : only && firstKey === only.slug ? 2 : only && keyCounts[only.slug] === 0 ? 1 : null;
  const onKeys = (slug: string) => (count: number) => {
    setKeyCounts((k) => ({ ...k, [slug]: count }));
    if (count > 0 && keyCounts[slug] === 0) setFirstKey(slug);
  };

  return (
    <section class="my-channels">
      <div class="page-head">
        <div>
          <h1>My channels</h1>
          <p class="muted">
            Signed in as <strong>{user.name}</strong> <RoleBadge role={user.role} />
          </p>
        </div>
        {!creating && state.status === 'ready' && (
          <button type="button" class="btn btn-primary" onClick={() => setCreating(true)} data-testid="new-channel">
            <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
              <path d="M10 4v12M4 10h12" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" />
            </svg>
            New channel
          </button>
        )}
      </div>

      {notice && (
        <p class="alert alert-ok" role="status" data-testid="notice">
          {notice}
          <button type="button" class="close" onClick={() => setNotice(null)} aria-label="Dismiss">
            ×
          </button>
        </p>
      )}

      {step !== null && <NextSteps current={step} studio={only?.slug ?? null} />}

      {creating && (
        <section class="panel create-panel" aria-labelledby="create-heading">
          <h2 id="create-heading">Create a channel</h2>
          <ChannelForm
            mode="create"
            onCancel={channels.length ? () => setCreating(false) : undefined}
            onSubmit={async (input) => {
              const created = await api.createChannel(input);
              setState({ status: 'ready', channels: [created, ...channels] });
              setCreating(false);
              setOpenSlug(created.slug);
              setKeyCounts((k) => ({ ...k, [created.slug]: 0 })); // a new channel has none: step 2 at once
              setNotice(`“${created.title}” is ready at /c/${created.slug}. Next, create a stream key below.`);
            }}
          />
        </section>
      )}

      {state.status === 'loading' && <Loading label="Loading your channels…" />}
      {state.status === 'error' && <ErrorState message={state.message} onRetry={() => setAttempt((n) => n + 1)} />}
      {state.status === 'ready' && channels.length === 0 && !creating && (
        <EmptyState title="You have no channels yet">
          <button type="button" class="btn btn-primary" onClick={() => setCreating(true)}>
            Create a channel
          </button>
        </EmptyState>
      )}
      {channels.length > 0 && (
        <div class="manager-list" data-testid="my-channel-list">
          {channels.map((c) => (
            <ChannelManager
              key={c.id}
              channel={c}
              open={openSlug === c.slug}
              onToggle={() => setOpenSlug(openSlug === c.slug ? null : c.slug)}
              onChange={(next) => replace(c.slug, next)}
              onKeys={onKeys(c.slug)}
              onDeleted={() => {
                setState({ status: 'ready', channels: channels.filter((x) => x.id !== c.id) });
                setNotice(`“${c.title}” was deleted.`);
              }}
            />
          ))}
        </div>
      )}
    </section>
  );
}
