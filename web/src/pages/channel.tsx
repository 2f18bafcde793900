// A channel's page: the live player (WHEP), and who and what the channel is. Live or offline, the viewer count and
// the recording of a broadcast that just ended follow the socket's live state (web/src/live-state.ts): no reload.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Channel } from '../api.ts';
import { Avatar } from '../components/avatar.tsx';
import { ErrorState, Loading } from '../components/status.tsx';
import { ChatPanel } from '../components/chat-panel.tsx';
import { LivePlayer } from '../components/live-player.tsx';
import { FollowButton } from '../components/follow-button.tsx';
import { SubscribeBox } from '../components/subscribe-box.tsx';
import { Tags } from '../components/tags.tsx';
import { formatDate, hueOf } from '../format.ts';
import { useLiveChannel } from '../live-state.ts';
import { useSession } from '../session.ts';
import { useTitle } from '../title.ts';
import { NotFoundPage } from './not-found.tsx';
import { ChannelVideos, PastBroadcasts } from './vod.tsx';

type State = { status: 'loading' } | { status: 'missing' } | { status: 'error'; message: string } | { status: 'ready'; channel: Channel };

export function ChannelPage({ slug }: { slug: string }) {
  const { user } = useSession();
  const [state, setState] = useState<State>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  // watched from the start (by address), so an event between the fetch and the first render is not missed
  const { channel: current, info } = useLiveChannel(state.status === 'ready' ? state.channel : { slug, title: '', live: null });
  useTitle(state.status === 'ready' ? current.title : null);

  useEffect(() => {
    const ctl = new AbortController();
    setState({ status: 'loading' });
    api
      .channel(slug, ctl.signal)
      .then((channel) => setState({ status: 'ready', channel }))
      .catch((err: unknown) => {
        if (ctl.signal.aborted) return;
        if (err instanceof ApiError && err.status === 404) setState({ status: 'missing' });
        else setState({ status: 'error', message: err instanceof Error ? err.message : String(err) });
      });
    return () => ctl.abort();
  }, [slug, attempt]);

  if (state.status === 'loading') return <Loading label="Loading channel…" />;
  if (state.status === 'missing') return <NotFoundPage what="This channel" />;
  if (state.status === 'error') return <ErrorState message={state.message} onRetry={() => setAttempt((n) => n + 1)} />;

  const channel = current as Channel;
  const ended = !channel.live && info?.ended;
  const isOwner = user?.id === channel.owner.id;
  return (
    <article class="channel-page" data-testid="channel-page" data-slug={channel.slug}>
      <div class="watch">
        <LivePlayer channel={channel} />
        <ChatPanel slug={channel.slug} user={user} />
      </div>

      <div class="channel-info">
        <Avatar channel={channel} size="xl" />
        <div class="channel-text">
          <div class="channel-title-row">
            <h1 data-testid="channel-title">{channel.title}</h1>
            {channel.live ? <span class="badge badge-live">Live</span> : <span class="badge badge-offline">Offline</span>}
            {isOwner && (
              <a class="btn btn-primary btn-sm" href={`/studio/${channel.slug}`} data-testid="channel-go-live">
                Go live
              </a>
            )}
            {isOwner && (
              <a class="btn btn-secondary btn-sm" href={`/me/channels#${channel.slug}`} data-testid="channel-edit-link">
                <svg viewBox="0 0 20 20" width="14" height="14" aria-hidden="true">
                  <path d="M13.6 3.4l3 3L7 16H4v-3z" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round" />
                </svg>
                Edit
              </a>
            )}
          </div>
          {channel.live?.title && (
            <p class="channel-live-title" data-testid="channel-live-title">
              {channel.live.title}
              {channel.live.category && <span class="muted"> · {channel.live.category}</span>}
            </p>
          )}
          {ended && (
            <p class="live-note" role="status" data-testid="broadcast-ended">
              The broadcast has ended.{' '}
              {ended.vodId && (
                <a href={`/v/${ended.vodId}`} data-testid="ended-vod-link">
                  {ended.ready ? 'Watch the recording' : 'The recording (finishing…)'}
                </a>
              )}
            </p>
          )}
          <p class="channel-owner">
            by <strong data-testid="channel-owner">{channel.owner.name}</strong>
            <span class="muted"> · /c/{channel.slug} · since {formatDate(channel.createdAt)}</span>
          </p>
          <Tags channel={channel} links />
          <div class="channel-actions">
            <FollowButton slug={channel.slug} ownerId={channel.owner.id} followers={channel.followers} user={user} />
          </div>
        </div>
      </div>

      <SubscribeBox channel={channel} user={user} />

      <ChannelVideos slug={channel.slug} refresh={info?.changes ?? 0} />

      <PastBroadcasts slug={channel.slug} liveSessionId={channel.live?.sessionId ?? null} refresh={info?.changes ?? 0} />

      <section class="panel about" aria-labelledby="about-heading">
        <h2 id="about-heading">About</h2>
        {channel.description ? (
          <p class="description" data-testid="channel-description">
            {channel.description}
          </p>
        ) : (
          <p class="muted" data-testid="channel-description">
            No description yet.
          </p>
        )}
      </section>
    </article>
  );
}
