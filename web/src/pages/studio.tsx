// The studio, a streamer's control room: the preview of camera (or screen) and microphone with the health of what
// goes out and what the SFU receives, this broadcast's title and category, the viewer count and the chat beside it;
// going live over WHIP, ending with a confirmation and a summary that links the recording once it is ready; and what
// to paste into OBS (RTMP or WHIP). The broadcast itself lives in live/broadcast.ts, so it survives navigating away.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Broadcast, type BroadcastSummary, type Channel, type NewStreamKey } from '../api.ts';
import { CHANNEL_LIMITS } from '../../../shared/bounds.ts';
import { ChatPanel } from '../components/chat-panel.tsx';
import { ConfirmButton } from '../components/confirm.tsx';
import { Button, Field } from '../components/form.tsx';
import { KeyReveal } from '../components/key-reveal.tsx';
import { ErrorState, Loading } from '../components/status.tsx';
import { currentBroadcast, endBroadcast, received, startBroadcast, useBroadcast, type LiveBroadcast, type ReceivedStream } from '../live/broadcast.ts';
import { outgoing } from '../live/whip.ts';
import { useLiveChannel } from '../live-state.ts';
import type { LiveNow } from '../../../shared/socket-events.ts';
import { useSession } from '../session.ts';
import { useTitle } from '../title.ts';
import { authHref } from './auth-common.ts';
import { NotFoundPage } from './not-found.tsx';

type Source = 'camera' | 'screen';
const STUDIO_KEY_LABEL = 'Browser studio';
const OBS_KEY_LABEL = 'OBS';
/**
 * How often the SFU's received stats (bitrate, loss, score of what it gets from this tab) are read while live. They
 * are the one thing here that is read and not pushed: a measurement of the WHIP session, not an event, asked of the
 * SFU with the stream key by the one tab that shows it — pushed, every broadcast would publish them each second on
 * the bus whether or not a studio looks. Viewers, title and category come over the page's socket (useLiveChannel).
 */
const RECEIVED_MS = 2000;
/** The recording's state is read this often after the end, this many times at most (about two minutes). */
const SUMMARY_POLL_MS = 1500;
const SUMMARY_POLLS = 80;

/** A fresh secret for the studio's own stream key (rotating the old one, so only one studio key ever works). */
async function studioKey(slug: string): Promise<string> {
  const existing = (await api.streamKeys(slug)).find((k) => k.label === STUDIO_KEY_LABEL);
  return (existing ? await api.rotateStreamKey(slug, existing.id) : await api.createStreamKey(slug, STUDIO_KEY_LABEL)).key;
}

function clock(ms: number) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

type Outgoing = Awaited<ReturnType<typeof outgoing>>;
type Ended = { slug: string; sessionId: string | null; title: string; since: number; until: number; peakViewers: number };

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
  const [busy, setBusy] = useState(false);
  const [rtmpUrl, setRtmpUrl] = useState<string | null>(null);
  const [obsKey, setObsKey] = useState<{ created: NewStreamKey; rotated: boolean } | null>(null);
  const [details, setDetails] = useState<Broadcast | null>(null);
  const [ended, setEnded] = useState<Ended | null>(null);
  const preview = useRef<HTMLVideoElement>(null);
  const broadcast = useBroadcast();
  // this channel's broadcast from this tab, if it is on air (it may have been started before the studio mounted again)
  const live = broadcast?.slug === slug ? broadcast : null;
  const elsewhere = broadcast && !live ? broadcast.slug : null;
  useTitle(channel && channel !== 'missing' ? `Studio · ${channel.title}` : 'Studio');

  useEffect(() => {
    api.ingest().then((i) => setRtmpUrl(i.rtmp), () => setRtmpUrl(null));
  }, []);

  useEffect(() => {
    api.channel(slug).then(setChannel, (err) => (err instanceof ApiError && err.status === 404 ? setChannel('missing') : setError(String(err.message ?? err))));
  }, [slug]);

  const owner = !!user && channel !== null && channel !== 'missing' && (user.id === channel.owner.id || user.role === 'admin');

  // the next (or current) broadcast's title and category, read once; from then on the channel's live state pushed over
  // the page's socket (channel:live on a start or a rename, channel:viewers, channel:offline) keeps them current
  const pushed = useLiveChannel({ slug, title: '', live: null }).info;
  const [readAt, setReadAt] = useState(0);
  useEffect(() => {
    if (!owner) return;
    const ctl = new AbortController();
    api.broadcast(slug, ctl.signal).then(setDetails, () => undefined);
    return () => ctl.abort();
  }, [slug, owner, readAt]);
  // a broadcast ended: the form shows the next broadcast's title again, which only the API knows (read once more)
  const endedHeard = pushed?.ended;
  useEffect(() => {
    if (endedHeard) setReadAt((n) => n + 1);
  }, [endedHeard]);
  const shown = details && pushed?.title ? withLive(details, pushed.live) : details;

  // preview: the broadcast's own stream while live, else camera or screen, plus microphone
  useEffect(() => {
    if (live) {
      setStream(live.stream);
      return;
    }
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
      // a stream that went on air belongs to the broadcast now: leaving the studio must not stop it
      if (got && got !== currentBroadcast()?.stream) got.getTracks().forEach((t) => t.stop());
    };
  }, [source, camera, mic, live]);

  // after every render: the <video> appears only once the channel has loaded, maybe after the stream is known
  useEffect(() => {
    if (preview.current && preview.current.srcObject !== stream) preview.current.srcObject = stream;
  });

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
  if (!owner) {
    return <ErrorState title="Not your channel" message="Only the channel's owner can broadcast from its studio." />;
  }

  const goLive = async () => {
    if (!stream) return;
    setBusy(true);
    setError(null);
    setEnded(null);
    try {
      // the SFU starts the broadcast with the title and category saved for the next one
      if (details) await api.setBroadcast(slug, { title: details.title, category: details.category });
      const token = await studioKey(slug);
      await startBroadcast({ slug, token, stream, codec, simulcast });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const end = async () => {
    const b = await endBroadcast();
    if (!b) return;
    setEnded({ slug, sessionId: await b.session, title: shown?.title ?? '', since: b.since, until: Date.now(), peakViewers: shown?.live?.peakViewers ?? 0 });
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
            <a href={`/c/${slug}`}>/c/{slug}</a> ·{' '}
            <a href={`/studio/${slug}/upload`} data-testid="studio-upload-link">
              Upload a video
            </a>
          </p>
        </div>
        {live ? (
          <ConfirmButton label="End stream" prompt="End the broadcast for everyone watching?" confirmLabel="End stream" onConfirm={end} testid="studio-end" size="md" />
        ) : (
          <button type="button" class="btn btn-primary" onClick={goLive} disabled={busy || !stream || !!elsewhere} data-testid="studio-go-live">
            Go live
          </button>
        )}
      </div>
      {elsewhere && (
        <p class="alert alert-error" role="alert" data-testid="studio-live-elsewhere">
          You are live on <a href={`/studio/${elsewhere}`}>/c/{elsewhere}</a> from this tab; end that broadcast before starting another.
        </p>
      )}
      {error && (
        <p class="alert alert-error" role="alert" data-testid="error-message">
          {error}
        </p>
      )}
      {ended && <Summary ended={ended} onDismiss={() => setEnded(null)} />}
      <div class="studio-grid">
        <div class="studio-main">
          <div class="player studio-preview">
            <video ref={preview} class="player-video" autoplay playsInline muted data-testid="studio-preview" />
            <div class="player-overlay">
              {live && <span class="badge badge-live">LIVE</span>}
              <span class="player-chip" data-testid="studio-state">
                {live ? live.state : 'preview'}
              </span>
              {live && <Timer since={live.since} />}
              {live && shown?.live && (
                <span class="player-chip" data-testid="studio-viewers">
                  {shown.live.viewers} watching
                </span>
              )}
            </div>
          </div>
          {live && <Health live={live} />}
          {shown && <BroadcastFields slug={slug} details={shown} live={!!live} onSaved={setDetails} />}
        </div>
        <div class="studio-chat">
          <ChatPanel slug={slug} user={user} />
        </div>
      </div>
      <div class="panel studio-settings">
        <div class="studio-settings-col">
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
        </div>
        <div class="studio-settings-col">
          <h2>Stream from OBS</h2>
          {rtmpUrl && (
            <>
              <p class="muted">Settings → Stream → Service “Custom…”. Server:</p>
              <CopyRow value={rtmpUrl} label="RTMP server" testId="studio-rtmp-url" />
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
          <CopyRow value={whipUrl} label="WHIP server" testId="studio-whip-url" />
          <p class="muted">
            WHIP’s bearer token is a stream key too. Viewers get your video as it is when it uses x264 with profile{' '}
            <code>baseline</code>, tune <code>zerolatency</code> (no B-frames) and a keyframe interval of 1–2 s, at 2.5–6
            Mbit/s; other settings over RTMP are re-encoded on the server, which adds a little delay. A broadcast from OBS
            gets the title and category set here too.
          </p>
        </div>
      </div>
    </section>
  );
}

/**
 * The broadcast as the studio shows it: as read from the API, with the live state the socket pushed since (it is newer:
 * the watch's acknowledgement is read after the socket joined the channel's room).
 */
function withLive(d: Broadcast, now: LiveNow | null): Broadcast {
  if (!now) return d.live ? { ...d, live: null } : d;
  const peak = d.live?.sessionId === now.sessionId ? d.live.peakViewers : 0;
  return {
    title: now.title,
    category: now.category,
    live: { sessionId: now.sessionId, startedAt: now.startedAt, viewers: now.viewers, peakViewers: Math.max(peak, now.viewers) },
  };
}

function Timer({ since }: { since: number }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return (
    <span class="player-chip" data-testid="studio-timer">
      {clock(now - since)}
    </span>
  );
}

/** Outgoing health (the publisher connection's own stats, each second) and received health (the SFU's, every RECEIVED_MS). */
function Health({ live }: { live: LiveBroadcast }) {
  const [out, setOut] = useState<Outgoing | null>(null);
  const [inbound, setInbound] = useState<ReceivedStream[]>([]);
  useEffect(() => {
    let prev: Outgoing | undefined;
    const timer = setInterval(async () => {
      prev = await outgoing(live.pub.pc, prev);
      setOut(prev);
    }, 1000);
    const ctl = new AbortController();
    const read = () => received(live, ctl.signal).then(setInbound, () => undefined);
    const poll = setInterval(read, RECEIVED_MS);
    void read();
    return () => {
      clearInterval(timer);
      clearInterval(poll);
      ctl.abort();
    };
  }, [live]);
  const video = inbound.filter((s) => s.kind === 'video');
  const rx = inbound.reduce((n, s) => n + s.bitrate, 0);
  const lost = inbound.reduce((n, s) => n + s.packetsLost, 0);
  const score = video.length ? Math.min(...video.map((s) => s.score)) : null;
  const loss = out && out.packetsSent > 0 ? (100 * out.packetsLost) / (out.packetsSent + out.packetsLost) : 0;
  return (
    <div class="panel studio-health" data-testid="studio-health">
      <dl class="studio-stats">
        <div>
          <dt>Sending</dt>
          <dd data-testid="studio-bitrate">{out ? (out.bitrate / 1000).toFixed(0) : 0} kbit/s</dd>
        </div>
        <div>
          <dt>Resolution</dt>
          <dd data-testid="studio-resolution">
            {out?.width ?? 0}×{out?.height ?? 0}
          </dd>
        </div>
        <div>
          <dt>Frame rate</dt>
          <dd data-testid="studio-fps">{out ? Math.round(out.fps) : 0} fps</dd>
        </div>
        <div>
          <dt>Packet loss</dt>
          <dd data-testid="studio-loss">{loss.toFixed(1)} %</dd>
        </div>
        <div>
          <dt>Round trip</dt>
          <dd data-testid="studio-rtt">{out?.rttMs != null ? `${Math.round(out.rttMs)} ms` : '—'}</dd>
        </div>
        <div>
          <dt>Server receives</dt>
          <dd data-testid="studio-received-bitrate">{(rx / 1000).toFixed(0)} kbit/s</dd>
        </div>
        <div>
          <dt>Lost on the way</dt>
          <dd data-testid="studio-received-lost">{lost} packets</dd>
        </div>
        <div>
          <dt>Quality score</dt>
          <dd data-testid="studio-received-score" title="The server's score of the video it receives, 0–10">
            {score ?? '—'}
            {score !== null && ' / 10'}
          </dd>
        </div>
      </dl>
    </div>
  );
}

/** This broadcast's title and category: saved for the next broadcast, and for the current one while live. */
function BroadcastFields({ slug, details, live, onSaved }: { slug: string; details: Broadcast; live: boolean; onSaved: (b: Broadcast) => void }) {
  const [title, setTitle] = useState(details.title);
  const [category, setCategory] = useState(details.category);
  // renamed elsewhere (another tab, OBS's broadcast started with other details): a field not being edited follows
  const was = useRef(details);
  useEffect(() => {
    const before = was.current;
    was.current = details;
    setTitle((t) => (t === before.title ? details.title : t));
    setCategory((c) => (c === before.category ? details.category : c));
  }, [details.title, details.category]);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ error: boolean; text: string } | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setNote(null);
    setFields({});
    try {
      onSaved(await api.setBroadcast(slug, { title, category }));
      setNote({ error: false, text: live ? 'Saved: viewers and the recording have the new title.' : 'Saved for your next broadcast.' });
    } catch (err) {
      setFields(err instanceof ApiError ? err.fields : {});
      setNote({ error: true, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="panel studio-broadcast" onSubmit={save} data-testid="studio-broadcast-form">
      <h2>{live ? 'This broadcast' : 'Next broadcast'}</h2>
      <Field
        label="Title"
        name="title"
        value={title}
        maxLength={CHANNEL_LIMITS.title}
        placeholder="What is this broadcast about?"
        hint="Viewers see it on your channel; the recording is named after it."
        error={fields.title}
        onInput={(e) => setTitle(e.currentTarget.value)}
        testid="studio-title"
      />
      <Field
        label="Category"
        name="category"
        value={category}
        maxLength={CHANNEL_LIMITS.category}
        placeholder="Music, Just chatting, …"
        error={fields.category}
        onInput={(e) => setCategory(e.currentTarget.value)}
        testid="studio-category"
      />
      <div class="studio-broadcast-actions">
        <Button type="submit" variant="secondary" class="btn-sm" busy={busy} data-testid="studio-save-title">
          Save
        </Button>
        {note && (
          <span class={note.error ? 'field-error' : 'muted'} role={note.error ? 'alert' : 'status'} data-testid="studio-title-note">
            {note.text}
          </span>
        )}
      </div>
    </form>
  );
}

/** After End stream: how it went, and its recording once it can be watched (its state read every SUMMARY_POLL_MS). */
function Summary({ ended, onDismiss }: { ended: Ended; onDismiss: () => void }) {
  const [s, setS] = useState<BroadcastSummary | null>(null);
  const [gaveUp, setGaveUp] = useState(false);
  useEffect(() => {
    const id = ended.sessionId;
    if (!id) return;
    const ctl = new AbortController();
    let polls = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async () => {
      polls++;
      const got = await api.broadcastSummary(ended.slug, id, ctl.signal).catch(() => null);
      if (ctl.signal.aborted) return;
      if (got) setS(got);
      const settled = got && got.endedAt && got.vod?.status !== 'recording';
      if (settled) return;
      if (polls >= SUMMARY_POLLS) return setGaveUp(true);
      timer = setTimeout(read, SUMMARY_POLL_MS);
    };
    void read();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [ended]);
  const seconds = s?.durationSeconds ?? (ended.until - ended.since) / 1000;
  const vod = s?.vod;
  return (
    <div class="panel studio-summary" role="status" data-testid="studio-summary">
      <div class="studio-summary-head">
        <h2>Broadcast ended</h2>
        <button type="button" class="btn btn-ghost btn-sm" onClick={onDismiss} data-testid="studio-summary-dismiss">
          Dismiss
        </button>
      </div>
      <p class="studio-summary-title" data-testid="studio-summary-title">
        {s?.title ?? (ended.title || 'Untitled broadcast')}
      </p>
      <dl class="studio-stats">
        <div>
          <dt>Duration</dt>
          <dd data-testid="studio-summary-duration">{clock(seconds * 1000)}</dd>
        </div>
        <div>
          <dt>Peak viewers</dt>
          <dd data-testid="studio-summary-peak">{s?.peakViewers ?? ended.peakViewers}</dd>
        </div>
        <div>
          <dt>Chat messages</dt>
          <dd data-testid="studio-summary-chat">{s?.chatMessages ?? '—'}</dd>
        </div>
      </dl>
      <p data-testid="studio-summary-vod-state">
        {vod?.status === 'ready' ? (
          <a class="btn btn-primary btn-sm" href={`/v/${vod.id}`} data-testid="studio-summary-vod">
            Watch the recording
          </a>
        ) : vod?.status === 'failed' ? (
          'The recording failed; nothing playable was recorded.'
        ) : !ended.sessionId || gaveUp ? (
          <>
            The recording is not ready yet; <a href={`/me/channels#${ended.slug}`}>My channels</a> will list it.
          </>
        ) : (
          'Finishing the recording…'
        )}
      </p>
    </div>
  );
}

function CopyRow({ value, label, testId }: { value: string; label: string; testId: string }) {
  return (
    <div class="copy-row">
      <input readOnly value={value} aria-label={label} data-testid={testId} onFocus={(e) => e.currentTarget.select()} />
      <button type="button" class="btn btn-secondary btn-sm" onClick={() => navigator.clipboard?.writeText(value)}>
        Copy
      </button>
    </div>
  );
}
