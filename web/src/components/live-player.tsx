// The watch player: plays the channel over WHEP when it is live, reconnects on its own (backoff), polls while
// offline, and shows live badge, viewer count and uptime.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Channel } from '../api.ts';
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

export function LivePlayer({ channel: initial }: { channel: Channel }) {
  const video = useRef<HTMLVideoElement>(null);
  const [status, setStatus] = useState<Status>(initial.live ? 'connecting' : 'offline');
  const [channel, setChannel] = useState(initial);
  const [muted, setMuted] = useState(true);
  const [now, setNow] = useState(Date.now());

  // keep viewer count and uptime fresh
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    const refresh = setInterval(() => api.channel(initial.slug).then(setChannel, () => undefined), 10_000);
    return () => {
      clearInterval(tick);
      clearInterval(refresh);
    };
  }, [initial.slug]);

  // connect, and reconnect whenever the connection fails or the broadcast restarts
  useEffect(() => {
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
        const p = await play(initial.slug);
        if (stopped) return void p.stop();
        current = p;
        failures = 0;
        setStatus('connecting');
        if (video.current) video.current.srcObject = p.stream;
        p.pc.addEventListener('connectionstatechange', () => {
          const st = p.pc.connectionState;
          if (st === 'connected') {
            setStatus('live');
            void api.channel(initial.slug).then(setChannel, () => undefined);
          }
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
          retry(5000); // poll until the channel goes live
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
    };
  }, [initial.slug]);

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
