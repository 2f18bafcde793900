// The control bar both players share (live over WebRTC, its DVR and recordings over HLS): play/pause, mute and
// volume, a seek bar with time (recordings and DVR), rewind and back-to-live (live), quality, theater mode,
// picture-in-picture and fullscreen, with the keyboard shortcuts of the big players (space/k, m, f, t, i, arrows).
import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { cueAt, type StoryboardCue } from '../vod/storyboard.ts';

/** live: the WebRTC live edge; dvr: the recording of the broadcast in progress, seekable; vod: a recording. */
export type PlayerMode = 'live' | 'dvr' | 'vod';

/** A quality menu: its choices (Auto first), which is chosen, and what choosing does. */
export type QualityMenu = { options: { id: string; label: string }[]; selected: string; onSelect(id: string): void };

type Props = {
  video: RefObject<HTMLVideoElement | null>;
  /** what fullscreen shows (the player frame, controls included) */
  frame: RefObject<HTMLElement | null>;
  mode: PlayerMode;
  /** live: play again from the live edge (a paused live stream never resumes on a stale frame) */
  onResume?: () => void;
  quality?: QualityMenu | undefined;
  /** live: move into the DVR from the start of the broadcast (undefined when it has no recording to rewind into) */
  onRewind?: (() => void) | undefined;
  /** dvr: return to the live edge */
  onBackToLive?: () => void;
  /** vod: the storyboard's tiles, previewed above the seek bar where the pointer is (or the thumb, while seeking) */
  storyboard?: StoryboardCue[] | null | undefined;
};

/** The keyboard shortcuts, as the `?` list shows them (recordings and DVR add the seeking ones). */
const SHORTCUTS: { keys: string; what: string; seek?: true }[] = [
  { keys: 'Space, k', what: 'Play or pause' },
  { keys: 'j / l', what: 'Back / forward 10 s', seek: true },
  { keys: '← / →', what: 'Back / forward 5 s', seek: true },
  { keys: '↑ / ↓', what: 'Volume up / down' },
  { keys: '0 – 9', what: 'Jump to 0 %, 10 % … 90 %', seek: true },
  { keys: 'm', what: 'Mute' },
  { keys: 'f', what: 'Fullscreen' },
  { keys: 't', what: 'Theater mode' },
  { keys: 'i', what: 'Picture-in-picture' },
  { keys: '?', what: 'This list' },
];

/** 1:05:09, 4:07 */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(s % 60).padStart(2, '0')}`;
}

const THEATER_KEY = 'glint:theater';
/** Volume step of the arrow keys, seek step of left/right. */
const VOLUME_STEP = 0.1;
const SEEK_STEP_S = 5;
/** How long a refusal (picture-in-picture, fullscreen) stays on the player. */
const MESSAGE_MS = 6000;
/** j / l */
const JUMP_STEP_S = 10;

/** Theater mode: a page-wide class the watch layouts honour (player.css), remembered across pages. */
function useTheater(): [boolean, () => void] {
  const [on, setOn] = useState(() => {
    try {
      return localStorage.getItem(THEATER_KEY) === '1';
    } catch {
      return false;
    }
  });
  useEffect(() => {
    document.body.classList.toggle('theater', on);
    try {
      localStorage.setItem(THEATER_KEY, on ? '1' : '0');
    } catch {
      // private mode: not remembered
    }
    return () => document.body.classList.remove('theater');
  }, [on]);
  return [on, () => setOn((v) => !v)];
}

/** The element's playback state, re-read on its media events. */
function useMediaState(video: RefObject<HTMLVideoElement | null>) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const el = video.current;
    if (!el) return;
    const bump = () => setTick((n) => n + 1);
    const events = ['play', 'pause', 'playing', 'volumechange', 'timeupdate', 'durationchange', 'loadedmetadata', 'seeked', 'emptied', 'enterpictureinpicture', 'leavepictureinpicture'];
    for (const e of events) el.addEventListener(e, bump);
    document.addEventListener('fullscreenchange', bump);
    return () => {
      for (const e of events) el.removeEventListener(e, bump);
      document.removeEventListener('fullscreenchange', bump);
    };
  }, [video]);
  const el = video.current;
  const seekable = el && el.seekable.length ? { start: el.seekable.start(0), end: el.seekable.end(el.seekable.length - 1) } : null;
  return {
    paused: el?.paused ?? true,
    muted: el ? el.muted || el.volume === 0 : true,
    volume: el?.volume ?? 1,
    time: el?.currentTime ?? 0,
    duration: el && Number.isFinite(el.duration) ? el.duration : (seekable?.end ?? 0),
    seekable,
    pip: !!el && document.pictureInPictureElement === el,
    fullscreen: !!document.fullscreenElement,
  };
}

/** A key press that is meant for a field (or a shortcut of the browser's), not for the player. */
function typing(e: KeyboardEvent): boolean {
  if (e.ctrlKey || e.metaKey || e.altKey) return true;
  const t = e.target as HTMLElement | null;
  if (!t) return false;
  if (t.isContentEditable) return true;
  const tag = t.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && (t as HTMLInputElement).type !== 'range';
}

function Icon({ d }: { d: string }) {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path d={d} fill="currentColor" />
    </svg>
  );
}
const ICONS = {
  play: 'M8 5v14l11-7z',
  pause: 'M6 5h4v14H6zm8 0h4v14h-4z',
  volume: 'M4 9v6h4l5 5V4L8 9H4zm12.5 3a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4z',
  muted: 'M4 9v6h4l5 5V4L8 9H4zm16.6 3 2.1-2.1-1.4-1.4-2.1 2.1-2.1-2.1-1.4 1.4 2.1 2.1-2.1 2.1 1.4 1.4 2.1-2.1 2.1 2.1 1.4-1.4z',
  rewind: 'M11 18V6l-8.5 6 8.5 6zm.5-6 8.5 6V6l-8.5 6z',
  quality: 'M19.4 13a7.5 7.5 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.3 7.3 0 0 0-1.7-1L15 3h-4l-.4 2.9a7.3 7.3 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.5 7.5 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1a7.3 7.3 0 0 0 1.7 1L11 21h4l.4-2.9a7.3 7.3 0 0 0 1.7-1l2.5 1 2-3.5zM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z',
  theater: 'M2 6h20v12H2zm2 2v8h16V8z',
  pip: 'M19 7h-8v6h8V7zm2-4H3a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h18a2 2 0 0 0 2-2V5a2 2 0 0 0-2-2zm0 16H3V5h18v14z',
  fullscreen: 'M5 5h5v2H7v3H5zm9 0h5v5h-2V7h-3zM5 14h2v3h3v2H5zm12 0h2v5h-5v-2h3z',
  exitFullscreen: 'M8 5h2v5H5V8h3zm6 0h2v3h3v2h-5zM5 14h5v5H8v-3H5zm9 0h5v2h-3v3h-2z',
};

export function PlayerControls({ video, frame, mode, onResume, quality, onRewind, onBackToLive, storyboard }: Props) {
  const m = useMediaState(video);
  const [theater, toggleTheater] = useTheater();
  const [menu, setMenu] = useState(false);
  const [help, setHelp] = useState(false);
  /** where a storyboard preview is shown: the time under the pointer (or the thumb) and its x in the seek bar */
  const [preview, setPreview] = useState<{ time: number; x: number } | null>(null);
  const seekRef = useRef<HTMLInputElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  /** a refusal the browser gave a request of the viewer's (picture-in-picture, fullscreen), shown for MESSAGE_MS */
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => {
    if (!message) return;
    const timer = setTimeout(() => setMessage(null), MESSAGE_MS);
    return () => clearTimeout(timer);
  }, [message]);
  const pipAllowed = typeof document !== 'undefined' && 'pictureInPictureEnabled' in document && document.pictureInPictureEnabled;
  const fullscreenAllowed = typeof document !== 'undefined' && document.fullscreenEnabled !== false;

  const act = {
    togglePlay: () => {
      const el = video.current;
      if (!el) return;
      if (!el.paused) return el.pause();
      if (onResume) onResume();
      else void el.play().catch(() => undefined);
    },
    toggleMute: () => {
      const el = video.current;
      if (!el) return;
      if (el.muted || el.volume === 0) {
        el.muted = false;
        if (el.volume === 0) el.volume = 0.5;
      } else el.muted = true;
    },
    volume: (v: number) => {
      const el = video.current;
      if (!el) return;
      // in whole percent: three steps of 0.1 up and three down leave 3e-17, which is neither silent nor muted
      el.volume = Math.round(Math.min(1, Math.max(0, v)) * 100) / 100;
      el.muted = el.volume === 0;
    },
    seek: (t: number) => {
      const el = video.current;
      if (el && mode !== 'live') el.currentTime = Math.max(m.seekable?.start ?? 0, Math.min(t, m.seekable?.end ?? el.duration));
    },
    fullscreen: () => {
      if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
      else if (fullscreenAllowed) void frame.current?.requestFullscreen().then(() => setMessage(null), (err: Error) => setMessage(refused('Fullscreen', err)));
    },
    pip: () => {
      const el = video.current;
      if (!el || !pipAllowed) return;
      if (document.pictureInPictureElement) void document.exitPictureInPicture().catch(() => undefined);
      else void el.requestPictureInPicture().then(() => setMessage(null), (err: Error) => setMessage(refused('Picture-in-picture', err)));
    },
  };

  // shortcuts anywhere on the page but in a field: one player per page (read through a ref: the latest state)
  const keys = useRef({ act, mode, toggleTheater, setHelp });
  keys.current = { act, mode, toggleTheater, setHelp };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (typing(e)) return;
      const { act: a, mode: now, toggleTheater: theaterKey, setHelp: helpKey } = keys.current;
      const el = video.current;
      const target = e.target as HTMLElement | null;
      const slider = target?.tagName === 'INPUT'; // a range input moves itself with the arrows
      switch (e.key) {
        case ' ':
          if (target?.closest?.('button, a, [role="menuitemradio"]')) return; // the focused control's own click
          a.togglePlay();
          break;
        case 'k':
          a.togglePlay();
          break;
        case 'm':
          a.toggleMute();
          break;
        case 'f':
          a.fullscreen();
          break;
        case 't':
          theaterKey();
          break;
        case 'i':
          a.pip();
          break;
        case 'ArrowUp':
        case 'ArrowDown':
          if (!el || slider) return;
          a.volume((el.muted ? 0 : el.volume) + (e.key === 'ArrowUp' ? VOLUME_STEP : -VOLUME_STEP));
          break;
        case 'ArrowLeft':
        case 'ArrowRight':
          if (!el || now === 'live' || slider) return;
          a.seek(el.currentTime + (e.key === 'ArrowRight' ? SEEK_STEP_S : -SEEK_STEP_S));
          break;
        case 'j':
        case 'l':
          if (!el || now === 'live') return;
          a.seek(el.currentTime + (e.key === 'l' ? JUMP_STEP_S : -JUMP_STEP_S));
          break;
        case '?':
          helpKey((v) => !v);
          break;
        case 'Escape':
          helpKey(false);
          // browsers leave fullscreen on Escape themselves (and then this never runs); where the key reaches the
          // page in fullscreen (a kiosk, an embedded or headless browser) it leaves it here
          if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
          return; // (no preventDefault: the browser's own Escape goes on)
        default:
          // 0–9: to n × 10 % of a recording (of the DVR's window)
          if (!/^[0-9]$/.test(e.key) || !el || now === 'live' || !el.seekable.length) return;
          {
            const start = now === 'dvr' ? el.seekable.start(0) : 0;
            const end = now === 'dvr' || !Number.isFinite(el.duration) ? el.seekable.end(el.seekable.length - 1) : el.duration;
            a.seek(start + ((end - start) * Number(e.key)) / 10);
          }
      }
      e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [video]);

  // the quality menu closes on Escape and on a click elsewhere
  useEffect(() => {
    if (!menu) return;
    const close = (e: Event) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !menuRef.current?.contains(e.target as Node)) setMenu(false);
    };
    document.addEventListener('keydown', close);
    document.addEventListener('pointerdown', close);
    return () => {
      document.removeEventListener('keydown', close);
      document.removeEventListener('pointerdown', close);
    };
  }, [menu]);

  const seekable = mode !== 'live' && m.seekable && m.seekable.end > m.seekable.start ? m.seekable : null;
  const start = mode === 'dvr' ? (seekable?.start ?? 0) : 0;
  const end = mode === 'dvr' ? (seekable?.end ?? 0) : m.duration;
  return (
    <>
    {muted(m) && (
      <button type="button" class="btn btn-secondary btn-sm player-unmute" onClick={act.toggleMute} data-testid="unmute">
        Unmute
      </button>
    )}
    {message && (
      <p class="player-notice player-refused" role="alert" data-testid="player-message">
        {message}
      </p>
    )}
    <div class={`player-controls${m.paused ? ' is-paused' : ''}`} data-testid="player-controls" data-mode={mode}>
      {mode !== 'live' && (
        <div
          class="player-seek"
          onPointerMove={(e) => {
            const r = seekRef.current?.getBoundingClientRect();
            if (!r || !r.width || !seekable) return;
            const f = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
            setPreview({ time: start + f * (end - start), x: f * r.width });
          }}
          onPointerLeave={() => setPreview(null)}
        >
          {preview && <SeekPreview cues={storyboard} time={preview.time} x={preview.x} label={clock(preview.time - start)} />}
          <input
            ref={seekRef}
            type="range"
            class="player-range"
            min={start}
            max={Math.max(end, start)}
            step="0.1"
            value={m.time}
            disabled={!seekable}
            onInput={(e) => {
              const value = Number(e.currentTarget.value);
              act.seek(value);
              const w = seekRef.current?.getBoundingClientRect().width ?? 0;
              // dragging the thumb (or the arrows on it) previews where it is
              if (w && end > start) setPreview({ time: value, x: ((value - start) / (end - start)) * w });
            }}
            onBlur={() => setPreview(null)}
            title="Seek (← → 5 s, j l 10 s, 0–9 to n × 10 %)"
            aria-label="Seek"
            aria-valuetext={`${clock(m.time - start)} of ${clock(end - start)}`}
            data-testid="player-seek"
          />
        </div>
      )}
      <div class="player-bar">
        <button type="button" class="player-btn" onClick={act.togglePlay} aria-label={m.paused ? 'Play (k)' : 'Pause (k)'} title={m.paused ? 'Play (space, k)' : 'Pause (space, k)'} data-testid="player-play">
          <Icon d={m.paused ? ICONS.play : ICONS.pause} />
        </button>
        <button type="button" class="player-btn" onClick={act.toggleMute} aria-label={m.muted ? 'Unmute (m)' : 'Mute (m)'} title={m.muted ? 'Unmute (m)' : 'Mute (m)'} aria-pressed={m.muted} data-testid="player-mute">
          <Icon d={m.muted ? ICONS.muted : ICONS.volume} />
        </button>
        <input
          type="range"
          class="player-range player-volume"
          min="0"
          max="1"
          step="0.05"
          value={m.muted ? 0 : m.volume}
          onInput={(e) => act.volume(Number(e.currentTarget.value))}
          aria-label="Volume"
          title="Volume (↑ ↓)"
          aria-valuetext={`${Math.round((m.muted ? 0 : m.volume) * 100)}%`}
          data-testid="player-volume"
        />
        {mode === 'live' && onRewind && (
          <button type="button" class="player-btn" onClick={onRewind} aria-label="Rewind to the start of the broadcast" title="Watch from the start" data-testid="player-rewind">
            <Icon d={ICONS.rewind} />
          </button>
        )}
        {mode !== 'live' && (
          <span class="player-time" data-testid="player-time">
            {clock(m.time - start)} / {clock(end - start)}
          </span>
        )}
        {mode === 'live' && (
          <span class="player-edge" data-testid="player-edge">
            <span class="player-edge-dot" aria-hidden="true" /> Live
          </span>
        )}
        {mode === 'dvr' && onBackToLive && (
          <button type="button" class="btn btn-sm player-golive" onClick={onBackToLive} data-testid="back-to-live">
            Back to live
          </button>
        )}
        <span class="player-spacer" />
        {quality && quality.options.length > 1 && (
          <div class="player-menu-wrap" ref={menuRef}>
            <button
              type="button"
              class="player-btn"
              onClick={() => setMenu((v) => !v)}
              aria-label="Quality"
              aria-haspopup="menu"
              aria-expanded={menu}
              data-testid="player-quality"
            >
              <Icon d={ICONS.quality} />
            </button>
            {menu && (
              <div class="player-menu" role="menu" aria-label="Quality" data-testid="quality-menu">
                {quality.options.map((o) => (
                  <button
                    type="button"
                    role="menuitemradio"
                    aria-checked={o.id === quality.selected}
                    class="player-menu-item"
                    key={o.id}
                    onClick={() => {
                      quality.onSelect(o.id);
                      setMenu(false);
                    }}
                    data-testid="quality-option"
                    data-quality={o.id}
                  >
                    {o.label}
                  </button>
                ))}
              </div>
            )}
          </div>
        )}
        <button type="button" class="player-btn" onClick={toggleTheater} aria-label={theater ? 'Default view (t)' : 'Theater mode (t)'} aria-pressed={theater} data-testid="player-theater">
          <Icon d={ICONS.theater} />
        </button>
        {pipAllowed && (
          <button type="button" class="player-btn" onClick={act.pip} aria-label={m.pip ? 'Exit picture-in-picture (i)' : 'Picture-in-picture (i)'} aria-pressed={m.pip} data-testid="player-pip">
            <Icon d={ICONS.pip} />
          </button>
        )}
        <button type="button" class="player-btn player-help-btn" onClick={() => setHelp((v) => !v)} aria-label="Keyboard shortcuts (?)" title="Keyboard shortcuts (?)" aria-expanded={help} data-testid="player-help">
          ?
        </button>
        {fullscreenAllowed && (
          <button type="button" class="player-btn" onClick={act.fullscreen} aria-label={m.fullscreen ? 'Exit fullscreen (f)' : 'Fullscreen (f)'} title={m.fullscreen ? 'Exit fullscreen (f)' : 'Fullscreen (f)'} data-testid="player-fullscreen">
            <Icon d={m.fullscreen ? ICONS.exitFullscreen : ICONS.fullscreen} />
          </button>
        )}
      </div>
      {help && (
        <div class="player-shortcuts" role="dialog" aria-label="Keyboard shortcuts" data-testid="player-shortcuts">
          <dl>
            {SHORTCUTS.filter((k) => !k.seek || mode !== 'live').map((k) => (
              <div key={k.keys}>
                <dt>
                  <kbd>{k.keys}</kbd>
                </dt>
                <dd>{k.what}</dd>
              </div>
            ))}
          </dl>
          <button type="button" class="btn btn-secondary btn-sm" onClick={() => setHelp(false)}>
            Close
          </button>
        </div>
      )}
    </div>
    </>
  );
}

/** Above the seek bar at `x`: the storyboard's tile for `time` (when there is a storyboard) and the time. */
function SeekPreview({ cues, time, x, label }: { cues: StoryboardCue[] | null | undefined; time: number; x: number; label: string }) {
  const cue = cues ? cueAt(cues, time) : null;
  return (
    <div class="player-preview" style={{ left: `${x}px` }} data-testid="seek-preview" aria-hidden="true">
      {cue && (
        <span
          class="player-preview-tile"
          style={{ width: `${cue.w}px`, height: `${cue.h}px`, backgroundImage: `url("${cue.url}")`, backgroundPosition: `-${cue.x}px -${cue.y}px` }}
          data-testid="storyboard-tile"
          data-xywh={`${cue.x},${cue.y},${cue.w},${cue.h}`}
        />
      )}
      <span class="player-preview-time">{label}</span>
    </div>
  );
}

/** What the viewer reads when the browser refuses `what` (its reason, in words, where it gives one). */
function refused(what: string, err: Error): string {
  const why =
    err.name === 'NotAllowedError' ? 'the browser did not allow it here' : err.name === 'InvalidStateError' ? 'this video cannot be shown that way right now' : err.name === 'NotSupportedError' ? 'this browser does not support it' : err.message || err.name;
  return `${what} is not available: ${why}.`;
}

/** Muted only by the autoplay rule (the element's muted flag), not by a volume of zero the viewer chose. */
const muted = (m: { muted: boolean; volume: number }) => m.muted && m.volume > 0;
