// A recording's page: the HLS player (from the start; while the broadcast is still live too), title, date, length.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Vod } from '../api.ts';
import { ErrorState, Loading } from '../components/status.tsx';
import { ChatReplay } from '../components/chat-replay.tsx';
import { VodPlayer } from '../components/vod-player.tsx';
import { requestRewind } from '../components/live-player.tsx';
import { formatDateTime } from '../format.ts';
import { navigate } from '../router.ts';
import { useSession } from '../session.ts';
import { useTitle } from '../title.ts';
import { NotFoundPage } from './not-found.tsx';

export function duration(seconds: number | null): string {
  if (seconds === null) return '';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(s % 60).padStart(2, '0')}`;
}

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
  const remove = async () => {
    if (!confirm('Delete this recording for good?')) return;
    try {
      await api.deleteVod(vod.id);
      navigate(`/c/${vod.channel.slug}`);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <article class="vod-page" data-testid="vod-page">
      {vod.status === 'failed' ? (
        // only the channel's owner (and admins) see a failed recording: say why, and let them remove it
        <p class="panel player-status" role="status" data-testid="vod-failed">
          This broadcast could not be recorded{vod.failureReason ? `: ${vod.failureReason}` : '.'}
        </p>
      ) : (
        <div class="watch">
          {/* a subscriber-only VoD plays from its signed URL: a CDN serves it without the session cookie */}
          <VodPlayer src={vod.signedPlaylistUrl ?? vod.playlistUrl} poster={vod.posterUrl} onTime={(elapsedMs, seconds) => setAt({ elapsedMs, seconds })} />
          <ChatReplay vodId={vod.id} startedAt={vod.startedAt} at={at} />
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
        {user && vod.status !== 'recording' && (user.role === 'admin' || user.id === vod.channel.ownerId) && (
          <button type="button" class="btn btn-secondary btn-sm" onClick={remove} data-testid="vod-delete">
            Delete recording
          </button>
        )}
      </div>
    </article>
  );
}

/** A channel's past broadcasts (and the one being recorded now), newest first. */
/**
 * A channel's recordings. `liveSessionId`: the broadcast in progress (its recording is "live now"; one still
 * recording of an ended broadcast is finishing); a change of `refresh` (a broadcast started, ended, its recording
 * became ready) reloads the list.
 */
export function PastBroadcasts({ slug, liveSessionId = null, refresh = 0 }: { slug: string; liveSessionId?: string | null; refresh?: number }) {
  const [vods, setVods] = useState<Vod[] | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    api.vods(slug, ctl.signal).then((r) => setVods(r.items), () => !ctl.signal.aborted && setVods((v) => v ?? []));
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
