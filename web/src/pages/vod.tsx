// A video's page: the HLS player (from the start; while the broadcast is still live too), title, date, length, its
// description, tags, chapters (which seek the player) and related videos; its owner's edit form.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Vod } from '../api.ts';
import { ErrorState, Loading } from '../components/status.tsx';
import { ChatReplay } from '../components/chat-replay.tsx';
import { VodPlayer } from '../components/vod-player.tsx';
import { requestRewind } from '../components/live-player.tsx';
import { duration, formatDateTime } from '../format.ts';
import { LANGUAGES } from '../../../shared/vod-catalog.ts';
import { VideoCard, viewsLabel } from '../components/video-card.tsx';
import { VodPicture } from '../components/vod-picture.tsx';
import { VodEditor } from '../components/vod-editor.tsx';
import { requestSeek } from '../components/vod-seek.ts';
import { navigate } from '../router.ts';
import { useSession } from '../session.ts';
import { useTitle } from '../title.ts';
import { holdSocket } from '../socket.ts';
import type { VodProgress, VodRenditionProgress } from '../../../shared/socket-events.ts';
import { NotFoundPage } from './not-found.tsx';
import { Tags } from '../components/tags.tsx';

export { duration };

/** A VoD still being transcoded: processing (nothing watchable yet), or a ladder with renditions still to come. */
const transcoding = (status: string, renditions: VodRenditionProgress[]) => status === 'processing' || renditions.some((r) => r.status === 'queued' || r.status === 'running');

/**
 * The transcode's progress, live: `vod:watch` on the page's socket, `vod:progress` back. `onPlayable` hears when a
 * rendition became ready that the VoD's JSON does not have yet (the page reloads the VoD: its master playlist).
 */
function useVodProgress(vod: Vod | null, userId: string | null, onPlayable: () => void): VodProgress | null {
  const [progress, setProgress] = useState<VodProgress | null>(null);
  const playable = useRef(onPlayable);
  playable.current = onPlayable;
  const watching = !!vod && transcoding(String(vod.status), vod.renditions);
  const vodId = vod?.id;
  useEffect(() => {
    setProgress(null);
    if (!watching || !vodId) return;
    const { socket, release } = holdSocket(userId);
    const onProgress = (p: VodProgress) => {
      if (p.vodId !== vodId) return;
      setProgress(p);
      if (p.renditions.some((r) => r.status === 'ready') || p.status === 'ready') playable.current();
    };
    // the acknowledgement says how the transcode is now (it may have moved on since the page's fetch)
    const watch = () =>
      socket.timeout(10_000).emit('vod:watch', { vodId }, (err: Error | null, reply?: { ok: boolean; vod?: VodProgress | null }) => {
        if (!err && reply?.ok && reply.vod) onProgress(reply.vod);
      });
    socket.on('vod:progress', onProgress);
    socket.on('connect', watch); // (again after a reconnect: rooms are per connection)
    if (socket.connected) watch();
    return () => {
      socket.off('vod:progress', onProgress);
      socket.off('connect', watch);
      if (socket.connected) socket.emit('vod:watch', { vodId: null }, () => undefined);
      release();
    };
  }, [vodId, watching, userId]);
  return progress;
}

/** Per rendition: its name, status and a progress bar. */
function TranscodeProgress({ status, renditions }: { status: string; renditions: VodRenditionProgress[] }) {
  return (
    <section class="panel vod-transcode" aria-labelledby="transcode-heading" data-testid="vod-transcode">
      <h2 id="transcode-heading">{status === 'processing' ? 'Processing the video…' : 'Preparing more qualities…'}</h2>
      {renditions.length === 0 ? (
        <p class="muted">Waiting for the transcoder to start.</p>
      ) : (
        <ul class="vod-renditions">
          {renditions.map((r) => (
            <li key={r.name} data-testid="rendition-progress" data-rendition={r.name} data-status={r.status}>
              <span class="vod-rendition-name">{r.name}</span>
              <progress max={1} value={r.status === 'ready' ? 1 : r.progress} aria-label={`${r.name}: ${Math.round(r.progress * 100)} %`} />
              <span class="muted">{r.status === 'ready' ? 'ready' : r.status === 'failed' ? 'failed' : r.status === 'queued' ? 'queued' : `${Math.round(r.progress * 100)} %`}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function VodPage({ id }: { id: string }) {
  const { user } = useSession();
  const [vod, setVod] = useState<Vod | null | 'missing'>(null);
  const [error, setError] = useState<string | null>(null);
  const [at, setAt] = useState<{ elapsedMs: number | null; seconds: number }>({ elapsedMs: null, seconds: 0 });
  const [reload, setReload] = useState(0);
  useTitle(vod && vod !== 'missing' ? vod.title : null);

  useEffect(() => {
    const ctl = new AbortController();
    api.vod(id, ctl.signal).then(setVod, (err) => {
      if (ctl.signal.aborted) return;
      if (err instanceof ApiError && err.status === 404) setVod('missing');
      else setError(String(err.message ?? err));
    });
    return () => ctl.abort();
  }, [id, reload]);

  const loaded = vod && vod !== 'missing' ? vod : null;
  // a rendition became ready that this page has no playlist of: read the VoD again (the player then starts)
  const progress = useVodProgress(loaded, user?.id ?? null, () => {
    if (loaded && (!loaded.masterPlaylistUrl || String(loaded.status) === 'processing')) setReload((n) => n + 1);
  });

  if (error) return <ErrorState message={error} />;
  if (vod === 'missing') return <NotFoundPage what="This recording" />;
  if (!vod) return <Loading label="Loading recording…" />;
  const manages = !!user && (user.role === 'admin' || user.id === vod.channel.ownerId);
  const language = (LANGUAGES as Record<string, string>)[vod.language];
  const status = progress?.status ?? String(vod.status);
  const renditions = progress?.renditions ?? vod.renditions;
  // nothing watchable yet: an upload being transcoded has no playlist of its own to fall back on
  const waiting = status === 'processing' && !vod.masterPlaylistUrl;
  return (
    <article class="vod-page" data-testid="vod-page">
      {waiting ? (
        <div class="panel vod-waiting" role="status" data-testid="vod-processing">
          This video is being processed; it starts here as soon as its first quality is ready.
        </div>
      ) : vod.status === 'failed' ? (
        // only the channel's owner (and admins) see a failed recording: say why, and let them remove it
        <p class="panel player-status" role="status" data-testid="vod-failed">
          This broadcast could not be recorded{vod.failureReason ? `: ${vod.failureReason}` : '.'}
        </p>
      ) : (
        <div class={`watch${vod.source === 'broadcast' ? '' : ' watch-solo'}`}>
          {/* a subscriber-only VoD plays from its signed URL: a CDN serves it without the session cookie */}
          <VodPlayer
            src={vod.masterPlaylistUrl ?? vod.signedPlaylistUrl ?? vod.playlistUrl}
            poster={vod.posterUrl}
            storyboard={vod.storyboard}
            resumeVodId={user && vod.status !== 'recording' ? vod.id : null}
            onTime={(elapsedMs, seconds) => setAt({ elapsedMs, seconds })}
          />
          {/* an upload had no broadcast, so no chat to replay */}
          {vod.source === 'broadcast' && <ChatReplay vodId={vod.id} startedAt={vod.startedAt} at={at} />}
        </div>
      )}
      {transcoding(status, renditions) && <TranscodeProgress status={status} renditions={renditions} />}
      <div class="vod-info">
        <h1 data-testid="vod-title">{vod.title}</h1>
        <p class="muted">
          <a href={`/c/${vod.channel.slug}`} data-testid="vod-channel">
            {vod.channel.title}
          </a>{' '}
          · {formatDateTime(vod.startedAt)}
          {vod.status === 'recording' ? (
            <span class="badge badge-live"> Live now — watching from the start</span>
          ) : vod.status === 'failed' ? (
            <span> · not recorded</span>
          ) : (
            // a length not known yet (a transcode still probing) is left out, not shown as a dangling separator
            vod.durationSeconds !== null && <span data-testid="vod-duration"> · {duration(vod.durationSeconds)}</span>
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
              <VodPicture src={v.posterUrl} title={v.title} seed={slug} width={160} height={90} />
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
