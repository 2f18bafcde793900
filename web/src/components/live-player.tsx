// The watch player: plays the channel over WHEP while it is live (the page's live state says when: `channel.live`,
// kept current over the socket by web/src/live-state.ts), reconnects on its own (backoff), stops when it ends, and
// shows live badge, viewer count and uptime. Nothing is asked of the SFU while the channel is offline.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Channel } from '../api.ts';
import { play, WhepError, type Playback } from '../live/whep.ts';
import { hueOf } from '../format.ts';
import { Avatar } from './avatar.tsx';

type Status = 'offline' | 'connecting' | 'live';

function uptime(since: string, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(sec).padStart(2, '0')}`;
}

/** WHEP answers 404 for a broadcast the page has just heard of (or one ending): tries before waiting for the next event. */
const NOT_FOUND_TRIES = 3;

export function LivePlayer({ channel }: { channel: Channel }) {
  const video = useRef<HTMLVideoElement>(null);
  const [status, setStatus] = useState<Status>(channel.live ? 'connecting' : 'offline');
  const [muted, setMuted] = useState(true);
  const [now, setNow] = useState(Date.now());
  const slug = channel.slug;
  const sessionId = channel.live?.sessionId;

  // keep the uptime fresh (the viewer count arrives with the channel's live state)
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);

  // while live: connect, and reconnect whenever the connection fails; a new broadcast connects anew
  useEffect(() => {
    if (!sessionId) {
      setStatus('offline');
      return;
    }
    setStatus('connecting');
    let notFound = 0;
    let current: Playback | undefined;
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
        current = p;
        failures = 0;
        setStatus('connecting');
        if (video.current) video.current.srcObject = p.stream;
        p.pc.addEventListener('connectionstatechange', () => {
          const st = p.pc.connectionState;
          if (st === 'connected') setStatus('live');
          if (st === 'failed' || st === 'closed' || st === 'disconnected') {
            if (current !== p) return;
            current = undefined;
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
      void current?.stop();
      if (video.current) video.current.srcObject = null;
    };
  }, [slug, sessionId]);

  const live = channel.live;
  return (
    <div class={`player${status === 'live' ? ' is-live' : ''}`} style={{ '--hue': String(hueOf(channel.slug)) }} data-testid="player">
      <video ref={video} class="player-video" autoplay playsInline muted={muted} data-testid="player-video" hidden={status === 'offline'} />
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
        <div class="player-overlay">
          <span class="badge badge-live" data-testid="live-badge">
            LIVE
          </span>
          <span class="sr-only" data-testid="player-status">
            Live
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
          {muted && (
            <button type="button" class="btn btn-secondary btn-sm player-unmute" onClick={() => setMuted(false)} data-testid="unmute">
              Unmute
            </button>
          )}
        </div>
      )}
    </div>
  );
}
