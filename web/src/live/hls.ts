// HLS playback (recordings, and the DVR of a broadcast in progress): hls.js (loaded on first use) wherever Media
// Source Extensions exist, so every browser plays the same way; the browser's own HLS (iPhone Safari) otherwise.

export type HlsLevel = { height: number; width: number; bitrate: number; details?: { fragments?: { programDateTime: number | null }[] } };
type HlsInstance = {
  playingDate: Date | null;
  levels: HlsLevel[];
  /** -1: automatic level selection */
  currentLevel: number;
  nextLevel: number;
  autoLevelEnabled: boolean;
  loadSource(src: string): void;
  attachMedia(v: HTMLVideoElement): void;
  on(ev: string, cb: (e: unknown, d: { fatal: boolean; details: string }) => void): void;
  destroy(): void;
};
type HlsClass = {
  new (config?: { startPosition?: number }): HlsInstance;
  isSupported(): boolean;
  Events: { ERROR: string; MANIFEST_PARSED: string; LEVEL_SWITCHED: string };
};

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

/** An HLS source playing in a video element, until stop(). */
export type HlsPlayback = {
  /** ms since the playlist's first segment by EXT-X-PROGRAM-DATE-TIME at the playing position (null where unknown) */
  elapsedMs(): number | null;
  /** the renditions (one for our recordings today; none with the browser's own HLS) */
  levels(): HlsLevel[];
  /** the rendition chosen: -1 for automatic */
  level(): number;
  /** the rendition playing now (-1: unknown, or the browser's own HLS) */
  playingLevel(): number;
  setLevel(index: number): void;
  /** which player plays it: hls.js, or the browser's own HLS (null while hls.js loads) */
  engine(): 'hls.js' | 'native' | null;
  stop(): void;
};

/**
 * Plays `src` in `el` from `startPosition` seconds (0: from the beginning, also for an EVENT playlist still being
 * written, which hls.js would otherwise join at its live edge). `onLevels` hears when the renditions are known or the
 * playing one changes; `onError` a fatal failure, in words.
 */
export function playHls(
  el: HTMLVideoElement,
  src: string,
  opts: { startPosition?: number; onError(message: string): void; onLevels?(): void },
): HlsPlayback {
  let hls: HlsInstance | undefined;
  let stopped = false;
  let engine: 'hls.js' | 'native' | null = null;
  const native = () => {
    if (el.canPlayType('application/vnd.apple.mpegurl')) {
      engine = 'native';
      opts.onLevels?.();
      el.src = src;
      if (opts.startPosition) el.addEventListener('loadedmetadata', () => (el.currentTime = opts.startPosition!), { once: true });
    } else opts.onError('This browser cannot play HLS video.');
  };
  loadHls().then(
    (Hls) => {
      if (stopped) return;
      if (!Hls.isSupported()) return native();
      hls = new Hls({ startPosition: opts.startPosition ?? 0 });
      engine = 'hls.js';
      hls.on(Hls.Events.ERROR, (_e, d) => d.fatal && opts.onError(`Playback failed (${d.details}).`));
      hls.on(Hls.Events.MANIFEST_PARSED, () => opts.onLevels?.());
      hls.on(Hls.Events.LEVEL_SWITCHED, () => opts.onLevels?.());
      hls.loadSource(src);
      hls.attachMedia(el);
    },
    () => !stopped && native(),
  );
  return {
    elapsedMs: () => {
      const playing = hls?.playingDate?.getTime();
      const first = hls?.levels?.[0]?.details?.fragments?.[0]?.programDateTime;
      return playing && first ? playing - first : null;
    },
    levels: () => hls?.levels ?? [],
    level: () => (!hls || hls.autoLevelEnabled ? -1 : hls.currentLevel),
    playingLevel: () => hls?.currentLevel ?? -1,
    engine: () => engine,
    setLevel: (index) => {
      if (hls) hls.currentLevel = index;
    },
    stop: () => {
      stopped = true;
      hls?.destroy();
      hls = undefined;
      el.removeAttribute('src');
      el.load();
    },
  };
}
