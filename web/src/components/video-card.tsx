// A video in a grid (the videos page, related videos, a channel's uploads): thumbnail with its length, title, channel,
// views and date.
import type { Vod } from '../api.ts';
import { duration, timeAgo } from '../format.ts';
import { VodPicture } from './vod-picture.tsx';

/** "1 view", "12.3K views". */
export function viewsLabel(n: number): string {
  const short = n < 1000 ? String(n) : n < 1_000_000 ? `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}K` : `${(n / 1_000_000).toFixed(1)}M`;
  return `${short} view${n === 1 ? '' : 's'}`;
}

/** When a video came out: its premiere time, else its start. */
export const publishedOf = (v: Pick<Vod, 'publishAt' | 'startedAt'>) => (v.publishAt && v.publishAt > v.startedAt ? v.publishAt : v.startedAt);

export function VideoCard({ vod, showChannel = true }: { vod: Vod; showChannel?: boolean }) {
  const thumb = vod.thumbnails?.small ?? vod.posterUrl;
  return (
    <li class="video-card" data-testid="video-card">
      {/* the picture repeats the title link below: one tab stop and one name per card */}
      <a href={`/v/${vod.id}`} class="video-card-link" tabIndex={-1} aria-hidden="true">
        <span class="video-thumb">
          <VodPicture src={thumb} title={vod.title} seed={vod.channel.slug} width={320} height={180} />
          {vod.durationSeconds !== null && <span class="video-length">{duration(vod.durationSeconds)}</span>}
        </span>
      </a>
      <div class="video-card-text">
        <a href={`/v/${vod.id}`} class="video-title" data-testid="video-card-title">
          {vod.title}
        </a>
        {showChannel && (
          <a href={`/c/${vod.channel.slug}`} class="muted video-channel">
            {vod.channel.title}
          </a>
        )}
        <span class="muted">
          {viewsLabel(vod.viewCount)} · {timeAgo(publishedOf(vod))}
          {vod.visibility !== 'public' && <span class="badge video-visibility"> {vod.visibility}</span>}
        </span>
      </div>
    </li>
  );
}
