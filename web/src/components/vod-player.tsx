// HLS playback for recordings: hls.js (loaded on first use) wherever Media Source Extensions exist, so every browser
// plays the same way; the browser's own HLS (iPhone Safari) otherwise.
import { useEffect, useRef, useState } from 'preact/hooks';

type HlsInstance = {
  playingDate: Date | null;
  levels?: { details?: { fragments?: { programDateTime: number | null }[] } }[];
  loadSource(src: string): void; attachMedia(v: HTMLVideoElement): void; on(ev: string, cb: (e: unknown, d: { fatal: boolean; details: string }) => void): void; destroy(): void };
type HlsClass = { new (config?: { startPosition?: number }): HlsInstance; isSupported(): boolean; Events: { ERROR: string } };

let loading: Promise<HlsClass> | undefined;
function loadHls(): Promise<HlsClass> {
  loading ??= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = __HLS_JS_URL__;
    s.onload = () => resolve((window as unknown as { Hls: HlsClass }).Hls);
    s.onerror = () => reject(new Error('could not load the HLS player'));
    document.head.appendChild(s);
  });
  return loading;
}

/**
 * `onTime` hears the playback position: the broadcast time elapsed since the recording's first segment by the
 * playlist's EXT-X-PROGRAM-DATE-TIME (through hls.js; it counts the pauses a recording cut out; null where unknown),
 * and the media time in seconds.
 */
export function VodPlayer({ src, poster, onTime }: { src: string; poster?: string | null; onTime?: (elapsedMs: number | null, seconds: number) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const el = video.current!;
    let hls: HlsInstance | undefined;
    let cancelled = false;
    setError(null);
    const native = () => {
      if (el.canPlayType('application/vnd.apple.mpegurl')) el.src = src;
      else setError('This browser cannot play HLS video.');
    };
    loadHls().then(
      (Hls) => {
        if (cancelled) return;
        if (!Hls.isSupported()) return native();
        // from the beginning, also while the broadcast is still being recorded (an EVENT playlist hls.js would
        // otherwise join at the live edge): "watch from the start"
        hls = new Hls({ startPosition: 0 });
        hls.on(Hls.Events.ERROR, (_e, d) => d.fatal && setError(`Playback failed (${d.details}).`));
        hls.loadSource(src);
        hls.attachMedia(el);
      },
      () => !cancelled && native(),
    );
    const tick = () => {
      const playing = hls?.playingDate?.getTime();
      const first = hls?.levels?.[0]?.details?.fragments?.[0]?.programDateTime;
      onTime?.(playing && first ? playing - first : null, el.currentTime);
    };
    el.addEventListener('timeupdate', tick);
    el.addEventListener('seeked', tick);
    return () => {
      cancelled = true;
      el.removeEventListener('timeupdate', tick);
      el.removeEventListener('seeked', tick);
      hls?.destroy();
    };
  }, [src]);

  return (
    <div class="player vod-player">
      <video ref={video} controls playsInline poster={poster ?? undefined} data-testid="vod-video" />
      {error && (
        <p class="player-status" data-testid="vod-error">
          {error}
        </p>
      )}
    </div>
  );
}
