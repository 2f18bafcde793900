// A video's page: the HLS player (from the start; while the broadcast is still live too), title, date, length, its
// description, tags, chapters (which seek the player) and related videos; its owner's edit form.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Vod } from '../api.ts';
import { ErrorState, Loading } from '../components/status.tsx';
import { ChatReplay } from '../components/chat-replay.tsx';
import { VodPlayer } from '../components/vod-player.tsx';
import { requestRewind } from '../components/live-player.tsx';
import { duration, formatDateTime } from '../format.ts';
import { LANGUAGES } from '../../../shared/vod-catalog.ts';
import { VideoCard, viewsLabel } from '../components/video-card.tsx';
import { VodEditor } from '../components/vod-editor.tsx';
import { requestSeek } from '../components/vod-seek.ts';
import { navigate } from '../router.ts';
import { useSession } from '../session.ts';
import { useTitle } from '../title.ts';
import { NotFoundPage } from './not-found.tsx';
import { Tags } from '../components/tags.tsx';

export { duration };

export function VodPage({ id }: { id: string }) {
  const { user } = useSession();
  const [vod, setVod] = useState<Vod | null | 'missing'>(null);
  const [error, setError] = useState<string | null>(null);
  const [at, setAt] = useState<{ elapsedMs: number | null; seconds: number }>({ elapsedMs: null, seconds: 0 });
  useTitle(vod && vod !== 'missing' ? vod.title : null);

  useEffect(() => {
    const ctl = new AbortController();
    api.vod(id, ctl.signal).then(setVod, (err) => {
      if (ctl.signal.aborted) return;
      if (err instanceof ApiError && err.status === 404) setVod('missing');
      else setError(String(err.message ?? err));
    });
    return () => ctl.abort();
  }, [id]);

  if (error) return <ErrorState message={error} />;
  if (vod === 'missing') return <NotFoundPage what="This recording" />;
  if (!vod) return <Loading label="Loading recording…" />;
  const manages = !!user && (user.role === 'admin' || user.id === vod.channel.ownerId);
  const language = (LANGUAGES as Record<string, string>)[vod.language];
  return (
    <article class="vod-page" data-testid="vod-page">
      {vod.status === 'failed' ? (
        // only the channel's owner (and admins) see a failed recording: say why, and let them remove it
        <p class="panel player-status" role="status" data-testid="vod-failed">
          This broadcast could not be recorded{vod.failureReason ? `: ${vod.failureReason}` : '.'}
        </p>
      ) : (
        <div class={`watch${vod.source === 'broadcast' ? '' : ' watch-solo'}`}>
          {/* a subscriber-only VoD plays from its signed URL: a CDN serves it without the session cookie */}
          <VodPlayer src={vod.signedPlaylistUrl ?? vod.playlistUrl} poster={vod.posterUrl} onTime={(elapsedMs, seconds) => setAt({ elapsedMs, seconds })} />
          {/* an upload had no broadcast, so no chat to replay */}
          {vod.source === 'broadcast' && <ChatReplay vodId={vod.id} startedAt={vod.startedAt} at={at} />}
        </div>
      )}
      <div class="vod-info">
        <h1 data-testid="vod-title">{vod.title}</h1>
        <p class="muted">
          <a href={`/c/${vod.channel.slug}`}>/c/{vod.channel.slug}</a> · {formatDateTime(vod.startedAt)}
          {vod.status === 'recording' ? (
            <span class="badge badge-live"> Live now — watching from the start</span>
          ) : vod.status === 'failed' ? (
            <span> · not recorded</span>
          ) : (
            <span data-testid="vod-duration"> · {duration(vod.durationSeconds)}</span>
          )}
        </p>
        {vod.status === 'ready' && <ViewCounter vod={vod} />}
        {(vod.visibility !== 'public' || (vod.publishAt && new Date(vod.publishAt) > new Date())) && (
          <p class="muted" data-testid="vod-visibility">
            {vod.visibility === 'unlisted' ? 'Unlisted: only people with the link can find it.' : vod.visibility === 'private' ? 'Private: only you can see it.' : vod.visibility === 'subscribers' ? 'For subscribers.' : ''}
            {vod.publishAt && new Date(vod.publishAt) > new Date() && <> Premieres {formatDateTime(vod.publishAt)}.</>}
          </p>
        )}
        <Tags channel={vod} />
        {language && <p class="muted">Language: {language}</p>}
        {vod.description && (
          <p class="description vod-description" data-testid="vod-description">
            {vod.description}
          </p>
        )}
        {vod.chapters.length > 0 && (
          <section class="vod-chapters" aria-labelledby="chapters-heading">
            <h2 id="chapters-heading">Chapters</h2>
            <ol data-testid="vod-chapters">
              {vod.chapters.map((ch) => (
                <li key={ch.startSeconds}>
                  <button type="button" class="chapter-link" onClick={() => requestSeek(ch.startSeconds)} data-testid="vod-chapter">
                    <span class="chapter-time">{duration(ch.startSeconds)}</span> {ch.title}
                  </button>
                </li>
              ))}
            </ol>
          </section>
        )}
        {manages && <VodEditor key={vod.id} vod={vod} onSaved={setVod} onDeleted={() => navigate(`/c/${vod.channel.slug}`)} />}
      </div>
      {vod.status !== 'failed' && <RelatedVideos id={vod.id} />}
    </article>
  );
}

/**
 * A channel's recordings. `liveSessionId`: the broadcast in progress (its recording is "live now"; one still
 * recording of an ended broadcast is finishing); a change of `refresh` (a broadcast started, ended, its recording
 * became ready) reloads the list.
 */
export function PastBroadcasts({ slug, liveSessionId = null, refresh = 0 }: { slug: string; liveSessionId?: string | null; refresh?: number }) {
  const [vods, setVods] = useState<Vod[] | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    api.vods(slug, ctl.signal, 'broadcast').then((r) => setVods(r.items), () => !ctl.signal.aborted && setVods((v) => v ?? []));
    return () => ctl.abort();
  }, [slug, refresh]);
  if (!vods?.length) return null;
  return (
    <section class="panel past-broadcasts" aria-labelledby="vods-heading" data-testid="past-broadcasts">
      <h2 id="vods-heading">Past broadcasts</h2>
      <ul class="vod-list">
        {vods.map((v) => (
          <li key={v.id}>
            {/* the broadcast in progress rewinds the channel page's player in place (its DVR); the VoD page otherwise */}
            <a href={`/v/${v.id}`} class="vod-card" data-testid="vod-card" onClick={(e) => v.status === 'recording' && requestRewind() && e.preventDefault()}>
              {v.posterUrl ? <img src={v.posterUrl} alt="" loading="lazy" width={160} height={90} /> : <span class="vod-card-blank" />}
              <span class="vod-card-text">
                <strong>{v.title}</strong>
                <span class="muted">
                  {formatDateTime(v.startedAt)} ·{' '}
                  {v.status === 'recording' && v.liveSessionId === liveSessionId ? 'live now — watch from the start' : v.status === 'recording' ? 'finishing the recording…' : v.status === 'failed' ? <span data-testid="vod-card-failed">recording failed</span> : duration(v.durationSeconds)}
                </span>
              </span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The view count, counting this one (once a viewer: the API deduplicates) when playback has had a chance to start. */
function ViewCounter({ vod }: { vod: Vod }) {
  const [count, setCount] = useState(vod.viewCount);
  useEffect(() => {
    const timer = setTimeout(() => api.countView(vod.id).then((r) => setCount(r.viewCount), () => {}), 3000);
    return () => clearTimeout(timer);
  }, [vod.id]);
  return (
    <p class="muted" data-testid="vod-views">
      {viewsLabel(count)}
    </p>
  );
}

/** Videos of the same channel, category or tags. */
function RelatedVideos({ id }: { id: string }) {
  const [items, setItems] = useState<Vod[]>([]);
  useEffect(() => {
    const ctl = new AbortController();
    api.relatedVods(id, ctl.signal).then((r) => setItems(r.items), () => {});
    return () => ctl.abort();
  }, [id]);
  if (!items.length) return null;
  return (
    <section class="panel related-videos" aria-labelledby="related-heading" data-testid="related-videos">
      <h2 id="related-heading">Related videos</h2>
      <ul class="video-grid">
        {items.map((v) => (
          <VideoCard key={v.id} vod={v} />
        ))}
      </ul>
    </section>
  );
}

/** A channel's uploaded videos (listed ones; all of them for its owner). */
export function ChannelVideos({ slug, refresh = 0 }: { slug: string; refresh?: number }) {
  const [vods, setVods] = useState<Vod[] | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    api.vods(slug, ctl.signal, 'upload').then((r) => setVods(r.items), () => !ctl.signal.aborted && setVods((v) => v ?? []));
    return () => ctl.abort();
  }, [slug, refresh]);
  if (!vods?.length) return null;
  return (
    <section class="panel channel-videos" aria-labelledby="videos-heading" data-testid="channel-videos">
      <h2 id="videos-heading">Videos</h2>
      <ul class="video-grid">
        {vods.map((v) => (
          <VideoCard key={v.id} vod={v} showChannel={false} />
        ))}
      </ul>
    </section>
  );
}
