// The watch player: plays the channel over WHEP while it is live (the page's live state says when: `channel.live`,
// kept current over the socket by web/src/live-state.ts), reconnects on its own (backoff), asks nothing of the SFU
// while the channel is offline, and shows live badge, viewer count and uptime. Its controls (player-controls.tsx) add a quality menu of the
// broadcast's simulcast layers (the SFU's layer selection), and a rewind into the recording in progress (the DVR, over
// HLS in the same element) with "Back to live" returning to the WebRTC stream, which stays connected meanwhile.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Channel } from '../api.ts';
import { chooseLayer, getLayers, play, WhepError, type Layers, type Playback } from '../live/whep.ts';
import { playHls, type HlsPlayback } from '../live/hls.ts';
import { hueOf } from '../format.ts';
import { Avatar } from './avatar.tsx';
import { PlayerControls, type QualityMenu } from './player-controls.tsx';

type Status = 'offline' | 'connecting' | 'live';

/** Asked of the page's live player from elsewhere on the page ("watch from the start" in the list of broadcasts). */
const REWIND_EVENT = 'glint:rewind';
/** How often the layers' bitrates are read again while live. */
const LAYERS_REFRESH_MS = 10_000;

/** Rewinds the page's live player into its DVR; false when there is no live player on the page to do it. */
export function requestRewind(): boolean {
  return !window.dispatchEvent(new Event(REWIND_EVENT, { cancelable: true }));
}

function uptime(since: string, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(sec).padStart(2, '0')}`;
}

/** Layer names, best first: what a viewer calls them, with the bitrate it arrives at when known. */
function layerLabel(index: number, count: number, bitrate: number): string {
  const names = count === 2 ? ['Low', 'High'] : count === 3 ? ['Low', 'Medium', 'High'] : [];
  const name = names[index] ?? `Layer ${index + 1}`;
  if (!bitrate) return name;
  return `${name} · ${bitrate >= 1_000_000 ? `${(bitrate / 1_000_000).toFixed(1)} Mb/s` : `${Math.round(bitrate / 1000)} kb/s`}`;
}

/** WHEP answers 404 for a broadcast the page has just heard of (or one ending): tries before waiting for the next event. */
const NOT_FOUND_TRIES = 3;

export function LivePlayer({ channel }: { channel: Channel }) {
  const video = useRef<HTMLVideoElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status>(channel.live ? 'connecting' : 'offline');
  const slug = channel.slug;
  const sessionId = channel.live?.sessionId;
  const [now, setNow] = useState(Date.now());
  const [mode, setMode] = useState<'live' | 'dvr'>('live');
  const [layers, setLayers] = useState<Layers | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const playback = useRef<Playback | undefined>(undefined);
  const dvr = useRef<HlsPlayback | undefined>(undefined);
  const modeRef = useRef(mode);
  modeRef.current = mode;

  // keep the uptime fresh (the viewer count arrives with the channel's live state)
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);

  /** The WebRTC stream in the element again: the live edge (setting srcObject restarts playback from now). */
  const toLiveEdge = () => {
    const el = video.current;
    const p = playback.current;
    if (!el) return;
    dvr.current?.stop();
    dvr.current = undefined;
    el.srcObject = p?.stream ?? null;
    void el.play().catch(() => undefined);
  };

  // while live: connect, and reconnect whenever the connection fails; a new broadcast connects anew
  useEffect(() => {
    if (!sessionId) {
      setStatus('offline');
      return;
    }
    setStatus('connecting');
    let notFound = 0;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    const retry = (ms: number) => {
      if (!stopped) timer = setTimeout(connect, ms);
    };
    async function connect() {
      setStatus((s) => (s === 'live' ? 'connecting' : s));
      try {
        const p = await play(slug);
        if (stopped) return void p.stop();
        playback.current = p;
        failures = 0;
        setStatus('connecting');
        setLayers(null);
        if (video.current && modeRef.current === 'live') video.current.srcObject = p.stream;
        p.pc.addEventListener('connectionstatechange', () => {
          const st = p.pc.connectionState;
          if (st === 'connected') {
            setStatus('live');
            if (p.layersUrl) void getLayers(p.layersUrl).then((l) => playback.current === p && setLayers(l), () => undefined);
          }
          if (st === 'failed' || st === 'closed' || st === 'disconnected') {
            if (playback.current !== p) return;
            playback.current = undefined;
            void p.stop();
            setStatus('connecting');
            retry(1000);
          }
        });
      } catch (err) {
        if (err instanceof WhepError && err.status === 404) {
          setStatus('offline');
          if (++notFound < NOT_FOUND_TRIES) retry(1000); // no polling: going live again is an event
        } else {
          failures++;
          setStatus('connecting');
          retry(Math.min(10_000, 1000 * 2 ** failures));
        }
      }
    }
    void connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      dvr.current?.stop();
      dvr.current = undefined;
      void playback.current?.stop();
      playback.current = undefined;
    };
  }, [slug, sessionId]);

  // the broadcast ended: nothing to be behind of any more
  useEffect(() => {
    if (status === 'offline' && mode === 'dvr') {
      dvr.current?.stop();
      dvr.current = undefined;
      setMode('live');
    }
  }, [status, mode]);

  // the layers' bitrates, now and then, while the menu may be looked at
  useEffect(() => {
    if (status !== 'live') return;
    const t = setInterval(() => {
      const url = playback.current?.layersUrl;
      if (url) void getLayers(url).then(setLayers, () => undefined);
    }, LAYERS_REFRESH_MS);
    return () => clearInterval(t);
  }, [status]);

  const rewind = async () => {
    setNotice(null);
    const live = channel.live;
    const vods = await api.vods(channel.slug).catch(() => null);
    const recording = vods?.items.find((v) => v.status === 'recording' && (!live || v.liveSessionId === live.sessionId));
    const el = video.current;
    if (!recording || !el) return setNotice('This broadcast has no recording to rewind into yet.');
    dvr.current?.stop();
    el.srcObject = null;
    dvr.current = playHls(el, recording.signedPlaylistUrl ?? recording.playlistUrl, {
      startPosition: 0,
      onError: (message) => {
        setNotice(message);
        setMode('live');
        toLiveEdge();
      },
    });
    setMode('dvr');
    void el.play().catch(() => undefined);
  };
  const rewindRef = useRef(rewind);
  rewindRef.current = rewind;
  useEffect(() => {
    const onRewind = (e: Event) => {
      e.preventDefault();
      frame.current?.scrollIntoView({ block: 'nearest' });
      void rewindRef.current();
    };
    window.addEventListener(REWIND_EVENT, onRewind);
    return () => window.removeEventListener(REWIND_EVENT, onRewind);
  }, []);

  const backToLive = () => {
    setMode('live');
    toLiveEdge();
  };

  const pick = (id: string) => {
    const url = playback.current?.layersUrl;
    if (!url) return;
    void chooseLayer(url, id === 'auto' ? 'auto' : { spatialLayer: Number(id) }).then(setLayers, (err: Error) => setNotice(err.message));
  };
  const height = video.current?.videoHeight;
  const quality: QualityMenu | undefined = layers
    ? {
        options: [
          { id: 'auto', label: `Auto${height && mode === 'live' ? ` (${height}p)` : ''}` },
          ...[...layers.layers].reverse().map((l) => ({ id: String(l.spatialLayer), label: layerLabel(l.spatialLayer, layers.layers.length, l.bitrate) })),
        ],
        selected: layers.preferred ? String(layers.preferred.spatialLayer) : 'auto',
        onSelect: pick,
      }
    : undefined;

  const live = channel.live;
  return (
    <div
      ref={frame}
      class={`player${status === 'live' ? ' is-live' : ''}${mode === 'dvr' ? ' is-dvr' : ''}`}
      style={{ '--hue': String(hueOf(channel.slug)) }}
      data-testid="player"
      data-mode={status === 'live' ? mode : status}
    >
      <video ref={video} class="player-video" autoplay playsInline muted data-testid="player-video" hidden={status === 'offline'} />
      {status !== 'live' && (
        <div class="player-offline">
          <Avatar channel={channel} size="lg" />
          <p class="player-status" data-testid="player-status">
            {status === 'offline' ? 'Offline' : 'Connecting…'}
          </p>
          <p class="muted">{status === 'offline' ? `${channel.title} is not live right now.` : 'Joining the broadcast…'}</p>
        </div>
      )}
      {status === 'live' && (
        <>
          <div class="player-overlay">
            <span class={`badge ${mode === 'live' ? 'badge-live' : 'badge-offline'}`} data-testid="live-badge">
              {mode === 'live' ? 'LIVE' : 'REWOUND'}
            </span>
            <span class="sr-only" data-testid="player-status">
              {mode === 'live' ? 'Live' : 'Watching from the start'}
            </span>
            {live && (
              <>
                <span class="player-chip" data-testid="viewer-count">
                  {live.viewers} watching
                </span>
                <span class="player-chip" data-testid="uptime">
                  {uptime(live.startedAt, now)}
                </span>
              </>
            )}
          </div>
          {notice && (
            <p class="player-notice" role="status" data-testid="player-notice">
              {notice}
            </p>
          )}
          <PlayerControls
            video={video}
            frame={frame}
            mode={mode}
            onResume={mode === 'live' ? toLiveEdge : undefined}
            quality={mode === 'live' ? quality : undefined}
            onRewind={() => void rewind()}
            onBackToLive={backToLive}
          />
        </>
      )}
    </div>
  );
}
