// A channel in the home grid: a 16:9 thumbnail (a recent frame while live) with its live or offline badge, avatar,
// title, owner, category and tags; live or offline and its viewer count follow the broadcast (web/src/live-state.ts).
import { useEffect, useState } from 'preact/hooks';
import type { Channel } from '../api.ts';
import { hueOf, initials } from '../format.ts';
import { useLiveChannel } from '../live-state.ts';
import { Avatar } from './avatar.tsx';
import { Tags } from './tags.tsx';

/** The live preview's URL, refreshed as the recorder replaces the image (every ~15 s); null until one exists. */
function useLivePreview(url: string | undefined): [string | null, () => void] {
  const [tick, setTick] = useState(0);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!url) return;
    const timer = setInterval(() => {
      setFailed(false);
      setTick((n) => n + 1);
    }, 15_000);
    return () => clearInterval(timer);
  }, [url]);
  return [url && !failed ? `${url}?t=${tick}` : null, () => setFailed(true)];
}

export function ChannelCard({ channel: fetched }: { channel: Channel }) {
  const { channel } = useLiveChannel(fetched);
  const hue = hueOf(channel.slug);
  const [preview, onPreviewError] = useLivePreview(channel.live?.previewUrl);
  return (
    <li class="card-cell">
      <a class="card" href={`/c/${channel.slug}`} data-testid="channel-card" data-slug={channel.slug} data-live={channel.live ? 'true' : 'false'}>
        <div class="thumb" style={{ '--hue': String(hue) }} aria-hidden="true">
          {preview ? (
            <img class="thumb-preview" src={preview} alt="" onError={onPreviewError} data-testid="card-preview" />
          ) : channel.avatarUrl ? (
            <img class="thumb-avatar" src={channel.avatarUrl} alt="" loading="lazy" />
          ) : (
            <span class="thumb-mark">{initials(channel.title)}</span>
          )}
          {channel.live ? (
            <span class="badge badge-live" data-testid="card-live">
              Live · {channel.live.viewers} watching
            </span>
          ) : (
            <span class="badge badge-offline">Offline</span>
          )}
        </div>
        <div class="card-body">
          <Avatar channel={channel} size="md" />
          <div class="card-text">
            <h3 class="card-title" data-testid="channel-card-title">
              {channel.title}
            </h3>
            <p class="card-owner" data-testid="channel-card-owner">
              {channel.owner.name}
            </p>
            <Tags channel={channel} />
          </div>
        </div>
      </a>
    </li>
  );
}
