// HLS playback for recordings (web/src/live/hls.ts), with the control bar the live player has (seek bar and time,
// and quality when the recording has more than one rendition).
import { useEffect, useRef, useState } from 'preact/hooks';
import { playHls, type HlsPlayback } from '../live/hls.ts';
import { PlayerControls, type QualityMenu } from './player-controls.tsx';
import { useSeekRequests } from './vod-seek.ts';

/**
 * `onTime` hears the playback position: the broadcast time elapsed since the recording's first segment by the
 * playlist's EXT-X-PROGRAM-DATE-TIME (through hls.js; it counts the pauses a recording cut out; null where unknown),
 * and the media time in seconds.
 */
export function VodPlayer({ src, poster, onTime }: { src: string; poster?: string | null; onTime?: (elapsedMs: number | null, seconds: number) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const hls = useRef<HlsPlayback | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [, setLevels] = useState(0);
  useSeekRequests(video); // chapters on the page seek here

  useEffect(() => {
    const el = video.current!;
    setError(null);
    // from the beginning, also while the broadcast is still being recorded: "watch from the start"
    const playback = playHls(el, src, { startPosition: 0, onError: setError, onLevels: () => setLevels((n) => n + 1) });
    hls.current = playback;
    const tick = () => onTime?.(playback.elapsedMs(), el.currentTime);
    el.addEventListener('timeupdate', tick);
    el.addEventListener('seeked', tick);
    return () => {
      el.removeEventListener('timeupdate', tick);
      el.removeEventListener('seeked', tick);
      playback.stop();
      hls.current = undefined;
    };
  }, [src]);

  const levels = hls.current?.levels() ?? [];
  const quality: QualityMenu | undefined =
    levels.length > 1
      ? {
          options: [
            { id: '-1', label: 'Auto' },
            ...levels.map((l, i) => ({ id: String(i), label: l.height ? `${l.height}p` : `${Math.round(l.bitrate / 1000)} kb/s` })).reverse(),
          ],
          selected: String(hls.current?.level() ?? -1),
          onSelect: (id) => {
            hls.current?.setLevel(Number(id));
            setLevels((n) => n + 1);
          },
        }
      : undefined;

  return (
    <div class="player vod-player" ref={frame} data-testid="vod-player">
      <video ref={video} class="player-video" playsInline poster={poster ?? undefined} data-testid="vod-video" />
      <PlayerControls video={video} frame={frame} mode="vod" quality={quality} />
      {error && (
        <p class="player-status" data-testid="vod-error">
          {error}
        </p>
      )}
    </div>
  );
}
