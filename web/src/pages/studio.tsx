// The studio: a channel owner previews camera (or screen) and microphone, picks devices and codec, and goes live
// over WHIP; it also shows what to paste into OBS (RTMP or WHIP).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Channel, type NewStreamKey } from '../api.ts';
import { KeyReveal } from '../components/key-reveal.tsx';
import { ErrorState, Loading } from '../components/status.tsx';
import { outgoing, publish, type Publication } from '../live/whip.ts';
import { useSession } from '../session.ts';
import { useTitle } from '../title.ts';
import { authHref } from './auth-common.ts';
import { NotFoundPage } from './not-found.tsx';

type Source = 'camera' | 'screen';
const STUDIO_KEY_LABEL = 'Browser studio';
const OBS_KEY_LABEL = 'OBS';

/** A fresh secret for the studio's own stream key (rotating the old one, so only one studio key ever works). */
async function studioKey(slug: string): Promise<string> {
  const existing = (await api.streamKeys(slug)).find((k) => k.label === STUDIO_KEY_LABEL);
  return (existing ? await api.rotateStreamKey(slug, existing.id) : await api.createStreamKey(slug, STUDIO_KEY_LABEL)).key;
}

function clock(ms: number) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export function StudioPage({ slug }: { slug: string }) {
  const { user, status: sessionStatus } = useSession();
  const [channel, setChannel] = useState<Channel | null | 'missing'>(null);
  const [error, setError] = useState<string | null>(null);
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [camera, setCamera] = useState('');
  const [mic, setMic] = useState('');
  const [source, setSource] = useState<Source>('camera');
  const [codec, setCodec] = useState<'VP8' | 'H264'>('VP8');
  const [simulcast, setSimulcast] = useState(false);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [live, setLive] = useState<{ pub: Publication; since: number } | null>(null);
  const [state, setState] = useState('idle');
  const [busy, setBusy] = useState(false);
  const [stats, setStats] = useState({ bitrate: 0, width: 0, height: 0 });
  const [now, setNow] = useState(Date.now());
  const [rtmpUrl, setRtmpUrl] = useState<string | null>(null);
  const [obsKey, setObsKey] = useState<{ created: NewStreamKey; rotated: boolean } | null>(null);
  const preview = useRef<HTMLVideoElement>(null);
  useTitle(channel && channel !== 'missing' ? `Studio · ${channel.title}` : 'Studio');

  useEffect(() => {
    api.ingest().then((i) => setRtmpUrl(i.rtmp), () => setRtmpUrl(null));
  }, []);

  useEffect(() => {
    api.channel(slug).then(setChannel, (err) => (err instanceof ApiError && err.status === 404 ? setChannel('missing') : setError(String(err.message ?? err))));
  }, [slug]);

  // preview: camera or screen, plus microphone
  useEffect(() => {
    let cancelled = false;
    let got: MediaStream | null = null;
    (async () => {
      try {
        const audio = mic ? { deviceId: { exact: mic } } : true;
        if (source === 'screen') {
          const screen = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 30 }, audio: false });
          const voice = await navigator.mediaDevices.getUserMedia({ audio });
          got = new MediaStream([...screen.getVideoTracks(), ...voice.getAudioTracks()]);
        } else {
          got = await navigator.mediaDevices.getUserMedia({ audio, video: { width: 1280, height: 720, ...(camera ? { deviceId: { exact: camera } } : {}) } });
        }
        if (cancelled) return got.getTracks().forEach((t) => t.stop());
        setStream(got);
        setDevices(await navigator.mediaDevices.enumerateDevices());
        setError(null);
      } catch (err) {
        if (!cancelled) setError(`Could not open ${source === 'screen' ? 'the screen' : 'the camera or microphone'}: ${(err as Error).message}`);
      }
    })();
    return () => {
      cancelled = true;
      got?.getTracks().forEach((t) => t.stop());
    };
  }, [source, camera, mic]);

  useEffect(() => {
    if (preview.current) preview.current.srcObject = stream;
  }, [stream]);

  // while live: timer, bitrate and resolution each second
  useEffect(() => {
    if (!live) return;
    let prev: { bytes: number; at: number } | undefined;
    const timer = setInterval(async () => {
      setNow(Date.now());
      const o = await outgoing(live.pub.pc, prev);
      prev = o;
      setStats({ bitrate: o.bitrate, width: o.width, height: o.height });
    }, 1000);
    return () => clearInterval(timer);
  }, [live]);

  useEffect(() => () => void live?.pub.stop(), [live]);

  if (sessionStatus === 'loading' || channel === null) return <Loading label="Opening the studio…" />;
  if (channel === 'missing') return <NotFoundPage what="This channel" />;
  if (!user) {
    return (
      <div class="state" data-testid="studio-signed-out">
        <h2>Sign in to go live</h2>
        <p>Sign in with the channel owner's account to broadcast from this studio.</p>
        <a class="btn btn-primary" href={authHref('/sign-in', `/studio/${slug}`)} data-testid="studio-sign-in">
          Sign in
        </a>
      </div>
    );
  }
  if (user.id !== channel.owner.id && user.role !== 'admin') {
    return <ErrorState title="Not your channel" message="Only the channel's owner can broadcast from its studio." />;
  }

  const goLive = async () => {
    if (!stream) return;
    setBusy(true);
    setError(null);
    try {
      const token = await studioKey(slug);
      const pub = await publish({ slug, token, stream, codec, simulcast });
      pub.pc.addEventListener('connectionstatechange', () => setState(pub.pc.connectionState));
      setState(pub.pc.connectionState);
      setLive({ pub, since: Date.now() });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const end = async () => {
    setBusy(true);
    await live?.pub.stop();
    setLive(null);
    setState('idle');
    setBusy(false);
  };

  /** The channel's "OBS" key: created the first time, rotated after (the secret is only ever shown once). */
  const obsStreamKey = async () => {
    try {
      const existing = (await api.streamKeys(slug)).find((k) => k.label === OBS_KEY_LABEL);
      const created = existing ? await api.rotateStreamKey(slug, existing.id) : await api.createStreamKey(slug, OBS_KEY_LABEL);
      setObsKey({ created, rotated: !!existing });
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const whipUrl = `${location.origin}/whip/${slug}`;
  const cams = devices.filter((d) => d.kind === 'videoinput');
  const mics = devices.filter((d) => d.kind === 'audioinput');
  return (
    <section class="studio" data-testid="studio-page">
      <div class="page-head">
        <div>
          <h1>Studio · {channel.title}</h1>
          <p class="muted">
            <a href={`/c/${slug}`}>/c/{slug}</a>
          </p>
        </div>
        {live ? (
          <button type="button" class="btn btn-danger" onClick={end} disabled={busy} data-testid="studio-end">
            End stream
          </button>
        ) : (
          <button type="button" class="btn btn-primary" onClick={goLive} disabled={busy || !stream} data-testid="studio-go-live">
            Go live
          </button>
        )}
      </div>
      {error && (
        <p class="alert alert-error" role="alert" data-testid="error-message">
          {error}
        </p>
      )}
      <div class="studio-grid">
        <div class="player studio-preview">
          <video ref={preview} class="player-video" autoplay playsInline muted data-testid="studio-preview" />
          <div class="player-overlay">
            {live && <span class="badge badge-live">LIVE</span>}
            <span class="player-chip" data-testid="studio-state">
              {live ? state : 'preview'}
            </span>
            {live && (
              <>
                <span class="player-chip" data-testid="studio-timer">
                  {clock(now - live.since)}
                </span>
                <span class="player-chip" data-testid="studio-bitrate">
                  {(stats.bitrate / 1000).toFixed(0)} kbit/s
                </span>
                <span class="player-chip" data-testid="studio-resolution">
                  {stats.width}×{stats.height}
                </span>
              </>
            )}
          </div>
        </div>
        <div class="panel studio-settings">
          <h2>Source</h2>
          <label class="field">
            <span>Video</span>
            <select value={source} disabled={!!live} onChange={(e) => setSource(e.currentTarget.value as Source)} data-testid="studio-source">
              <option value="camera">Camera</option>
              <option value="screen">Screen + microphone</option>
            </select>
          </label>
          {source === 'camera' && (
            <label class="field">
              <span>Camera</span>
              <select value={camera} disabled={!!live} onChange={(e) => setCamera(e.currentTarget.value)}>
                <option value="">Default camera</option>
                {cams.filter((d) => d.deviceId && d.deviceId !== 'default').map((d, i) => (
                  <option value={d.deviceId}>{d.label || `Camera ${i + 1}`}</option>
                ))}
              </select>
            </label>
          )}
          <label class="field">
            <span>Microphone</span>
            <select value={mic} disabled={!!live} onChange={(e) => setMic(e.currentTarget.value)}>
              <option value="">Default microphone</option>
              {mics.filter((d) => d.deviceId && d.deviceId !== 'default').map((d, i) => (
                <option value={d.deviceId}>{d.label || `Microphone ${i + 1}`}</option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>Video codec</span>
            <select value={codec} disabled={!!live} onChange={(e) => setCodec(e.currentTarget.value as 'VP8' | 'H264')} data-testid="studio-codec">
              <option value="VP8">VP8</option>
              <option value="H264">H.264</option>
            </select>
          </label>
          <label class="check">
            <input type="checkbox" checked={simulcast} disabled={!!live} onChange={(e) => setSimulcast(e.currentTarget.checked)} data-testid="studio-simulcast" />
            Simulcast (three qualities, so viewers on slow connections still get video)
          </label>
          <h2>Stream from OBS</h2>
          {rtmpUrl && (
            <>
              <p class="muted">Settings → Stream → Service “Custom…”. Server:</p>
              <CopyRow value={rtmpUrl} testId="studio-rtmp-url" />
              <p class="muted">
                Stream key: any key of this channel (<a href={`/me/channels#${slug}`}>My channels</a> lists them), or one made
                for OBS here — shown once; making it again replaces the old one.
              </p>
              <button type="button" class="btn btn-secondary btn-sm" onClick={obsStreamKey} data-testid="studio-obs-key">
                {obsKey ? 'Replace the OBS stream key' : 'Show a stream key for OBS'}
              </button>
              {obsKey && <KeyReveal created={obsKey.created} rotated={obsKey.rotated} onDismiss={() => setObsKey(null)} />}
              <p class="muted">Or use OBS 30+’s “WHIP” service with this server:</p>
            </>
          )}
          {!rtmpUrl && <p class="muted">Settings → Stream → Service “WHIP”. Server:</p>}
          <CopyRow value={whipUrl} testId="studio-whip-url" />
          <p class="muted">
            WHIP’s bearer token is a stream key too. Viewers get your video as it is when it uses x264 with profile{' '}
            <code>baseline</code>, tune <code>zerolatency</code> (no B-frames) and a keyframe interval of 1–2 s, at 2.5–6
            Mbit/s; other settings over RTMP are re-encoded on the server, which adds a little delay.
          </p>
        </div>
      </div>
    </section>
  );
}

function CopyRow({ value, testId }: { value: string; testId: string }) {
  return (
    <div class="copy-row">
      <input readOnly value={value} data-testid={testId} onFocus={(e) => e.currentTarget.select()} />
      <button type="button" class="btn btn-secondary btn-sm" onClick={() => navigator.clipboard?.writeText(value)}>
        Copy
      </button>
    </div>
  );
}
