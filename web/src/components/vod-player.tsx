// HLS playback for VoDs (web/src/live/hls.ts), with the control bar the live player has: seek bar and time with the
// storyboard's previews, a quality menu of the ladder's renditions (Auto + each level hls.js reports), the keyboard
// shortcuts, and, for a signed-in viewer, the position they stopped at (GET/PUT /api/vods/{id}/position).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { playHls, type HlsPlayback } from '../live/hls.ts';
import { parseStoryboard, type StoryboardCue } from '../vod/storyboard.ts';
import { clock, PlayerControls, type QualityMenu } from './player-controls.tsx';
import { useSeekRequests } from './vod-seek.ts';

/** How often a playing position is remembered, and the window it is offered back in (not the first seconds, not the end). */
const POSITION_EVERY_MS = 10_000;
const RESUME_MIN_S = 5;
const RESUME_MAX_FRACTION = 0.95;

type Props = {
  src: string;
  poster?: string | null | undefined;
  /**
   * Hears the playback position: the broadcast time elapsed since the recording's first segment by the playlist's
   * EXT-X-PROGRAM-DATE-TIME (through hls.js; it counts the pauses a recording cut out; null where unknown), and the
   * media time in seconds.
   */
  onTime?: ((elapsedMs: number | null, seconds: number) => void) | undefined;
  /** the storyboard: its WebVTT (the tiles previewing the seek bar) and the sprite's own URL (with a token where needed) */
  storyboard?: { imageUrl: string; vttUrl: string } | null | undefined;
  /** set for a signed-in viewer: where they stopped is remembered and offered back */
  resumeVodId?: string | null | undefined;
};

/**
 * The storyboard's cues, fetched once per URL (none when it is missing or malformed: the bar shows the time alone).
 * A cue naming the sprite gets the sprite's URL as the API gave it: a relative `storyboard.jpg` resolved against the
 * .vtt loses the .vtt's ?token= (a query string is not inherited), which a CDN in front would need.
 */
function useStoryboard(storyboard: { imageUrl: string; vttUrl: string } | null | undefined): StoryboardCue[] | null {
  const [cues, setCues] = useState<StoryboardCue[] | null>(null);
  const vttUrl = storyboard?.vttUrl;
  const imageUrl = storyboard?.imageUrl;
  useEffect(() => {
    setCues(null);
    if (!vttUrl) return;
    const ctl = new AbortController();
    const abs = new URL(vttUrl, location.href).href;
    const sprite = imageUrl ? new URL(imageUrl, location.href) : null;
    api
      .mediaText(abs, ctl.signal)
      .then((text) => setCues(parseStoryboard(text, abs).map((c) => (sprite && new URL(c.url).pathname === sprite.pathname ? { ...c, url: sprite.href } : c))))
      .catch(() => undefined);
    return () => ctl.abort();
  }, [vttUrl, imageUrl]);
  return cues;
}

const putPosition = (id: string, positionSeconds: number, keepalive = false) =>
  api.saveVodPosition(id, Math.max(0, Math.round(positionSeconds * 10) / 10), keepalive).catch(() => undefined);

export function VodPlayer({ src, poster, onTime, storyboard, resumeVodId }: Props) {
  const video = useRef<HTMLVideoElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const hls = useRef<HlsPlayback | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [, setLevels] = useState(0);
  useSeekRequests(video); // chapters on the page seek here
  const [resumed, setResumed] = useState<number | null>(null);
  const cues = useStoryboard(storyboard);
  const onTimeRef = useRef(onTime);
  onTimeRef.current = onTime;

  useEffect(() => {
    const el = video.current!;
    setError(null);
    // from the beginning, also while the broadcast is still being recorded: "watch from the start"
    const playback = playHls(el, src, { startPosition: 0, onError: setError, onLevels: () => setLevels((n) => n + 1) });
    hls.current = playback;
    const tick = () => onTimeRef.current?.(playback.elapsedMs(), el.currentTime);
    el.addEventListener('timeupdate', tick);
    el.addEventListener('seeked', tick);
    return () => {
      el.removeEventListener('timeupdate', tick);
      el.removeEventListener('seeked', tick);
      playback.stop();
      hls.current = undefined;
    };
  }, [src]);

  // resume where a signed-in viewer stopped, and remember where they are: every few seconds while playing, on pause,
  // and when the page goes away (keepalive: the request outlives the page)
  useEffect(() => {
    const el = video.current!;
    setResumed(null);
    if (!resumeVodId) return;
    /** undefined until the server said (null: nothing saved) */
    let saved: number | null | undefined;
    let offered = false;
    let last = -1;
    const offer = () => {
      if (offered || saved === undefined || !Number.isFinite(el.duration) || !el.duration) return;
      offered = true;
      if (saved !== null && saved > RESUME_MIN_S && saved < el.duration * RESUME_MAX_FRACTION) {
        el.currentTime = saved;
        setResumed(saved);
      }
    };
    const ctl = new AbortController();
    api.vodPosition(resumeVodId, ctl.signal).then(
      (r) => {
        saved = r?.positionSeconds ?? null;
        offer();
      },
      () => {
        saved = null; // (not offered back, but still remembered from now on)
        offer();
      },
    );
    const save = (keepalive = false) => {
      if (!offered || !el.duration || Math.abs(el.currentTime - last) < 0.5) return;
      last = el.currentTime;
      void putPosition(resumeVodId, el.currentTime, keepalive);
    };
    const onPause = () => save();
    const onHide = () => save(true);
    el.addEventListener('loadedmetadata', offer);
    el.addEventListener('durationchange', offer);
    el.addEventListener('pause', onPause);
    window.addEventListener('pagehide', onHide);
    const timer = setInterval(() => !el.paused && save(), POSITION_EVERY_MS);
    return () => {
      ctl.abort();
      save(true);
      clearInterval(timer);
      el.removeEventListener('loadedmetadata', offer);
      el.removeEventListener('durationchange', offer);
      el.removeEventListener('pause', onPause);
      window.removeEventListener('pagehide', onHide);
    };
  }, [src, resumeVodId]);

  const levels = hls.current?.levels() ?? [];
  const chosen = hls.current?.level() ?? -1;
  const playing = levels[hls.current?.playingLevel() ?? -1];
  const quality: QualityMenu | undefined =
    levels.length > 1
      ? {
          options: [
            { id: '-1', label: chosen === -1 && playing?.height ? `Auto (${playing.height}p)` : 'Auto' },
            ...levels.map((l, i) => ({ id: String(i), label: l.height ? `${l.height}p` : `${Math.round(l.bitrate / 1000)} kb/s` })).reverse(),
          ],
          selected: String(chosen),
          onSelect: (id) => {
            hls.current?.setLevel(Number(id));
            setLevels((n) => n + 1);
          },
        }
      : undefined;

  return (
    <div class="player vod-player" ref={frame} data-testid="vod-player" data-engine={hls.current?.engine() ?? ''}>
      <video ref={video} class="player-video" playsInline poster={poster ?? undefined} data-testid="vod-video" />
      <PlayerControls video={video} frame={frame} mode="vod" quality={quality} storyboard={cues} />
      {resumed !== null && (
        <p class="player-notice player-resume" role="status" data-testid="resume-note">
          Resumed from {clock(resumed)} ·{' '}
          <button
            type="button"
            class="btn btn-secondary btn-sm"
            onClick={() => {
              if (video.current) video.current.currentTime = 0;
              setResumed(null);
            }}
            data-testid="resume-start-over"
          >
            Start over
          </button>{' '}
          <button type="button" class="btn btn-sm" onClick={() => setResumed(null)} aria-label="Dismiss">
            ×
          </button>
        </p>
      )}
      {error && (
        <p class="player-status" data-testid="vod-error">
          {error}
        </p>
      )}
    </div>
  );
}
