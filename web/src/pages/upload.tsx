// Uploading a video to a channel (/studio/<slug>/upload): a file picked or dropped, an optional title, and a resumable
// upload over tus (tus-js-client against /api/uploads) in chunks of the server's size, with progress, speed, time left,
// pause/resume and cancel. A reload loses nothing: tus-js-client remembers the upload's URL in localStorage under the
// file's fingerprint, so picking the same file again continues where it stopped. When the last chunk lands the server
// names the new VoD (header Glint-Vod-Id) and the page goes there; a refusal (not a video, too long, ...) is shown in
// the server's words.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Upload, type DetailedError, type HttpResponse } from 'tus-js-client';
import { api, ApiError, type Channel } from '../api.ts';
import { ErrorState, Loading } from '../components/status.tsx';
import { formatBytes } from '../format.ts';
import { navigate } from '../router.ts';
import { useSession } from '../session.ts';
import { useTitle } from '../title.ts';
import { authHref } from './auth-common.ts';
import { NotFoundPage } from './not-found.tsx';

/** Below the 100 MB body limit of common proxies (Cloudflare's free plan), when the server does not say. */
const DEFAULT_CHUNK_BYTES = 50 * 1024 * 1024;
/** Waits between retries of a failed chunk (then the upload stops, resumable by picking the file again). */
const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10_000, 20_000];
/** The speed is the average over this window (a moving average: one slow chunk does not swing the time left). */
const SPEED_WINDOW_MS = 5000;
const TITLE_MAX = 120;

type UploadRow = Awaited<ReturnType<typeof api.myUploads>>['uploads'][number];

/** The server's limits for uploads in GET /api/config (UPLOAD_CHUNK_BYTES, UPLOAD_MAX_FILE_BYTES), loosely read. */

async function uploadLimits(): Promise<{ chunkBytes: number; maxFileBytes: number | null }> {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null);
  try {
    const cfg = (await api.config()) as unknown as Record<string, unknown>;
    return { chunkBytes: num(cfg.uploadChunkBytes) ?? DEFAULT_CHUNK_BYTES, maxFileBytes: num(cfg.uploadMaxFileBytes) };
  } catch {
    return { chunkBytes: DEFAULT_CHUNK_BYTES, maxFileBytes: null };
  }
}

/** The reason in a refusal's problem+json body (detail, else title), or a sentence for the status. */
export function refusalOf(res: HttpResponse | null | undefined, fallback: string): string {
  if (!res) return fallback;
  try {
    const body = JSON.parse(res.getBody() || 'null') as { detail?: unknown; title?: unknown } | null;
    const text = typeof body?.detail === 'string' && body.detail ? body.detail : typeof body?.title === 'string' ? body.title : '';
    if (text) return text;
  } catch {
    // not JSON: the status below
  }
  const status = res.getStatus();
  if (status === 401) return 'Sign in again to upload.';
  if (status === 403) return 'You may not upload to this channel.';
  if (status === 413) return 'This file is larger than this server accepts.';
  return `${fallback} (HTTP ${status})`;
}

/** 1 h 02 min, 3 min 05 s, 12 s */
function timeLeft(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${s} s`;
}

type Phase = 'idle' | 'uploading' | 'paused' | 'finishing' | 'done' | 'refused' | 'failed';
type Progress = { sent: number; total: number; speed: number | null };

/** The caller's unfinished or refused uploads (hidden while the server has no such list: a 404). */
function RecentUploads({ refresh }: { refresh: number }) {
  const [rows, setRows] = useState<UploadRow[] | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    api.myUploads(ctl.signal).then(
      (r) => setRows(r.uploads.filter((u) => u.status === 'uploading' || u.status === 'probing' || u.status === 'refused')),
      () => setRows(null),
    );
    return () => ctl.abort();
  }, [refresh]);
  if (!rows?.length) return null;
  return (
    <section class="panel upload-recent" aria-labelledby="recent-uploads" data-testid="recent-uploads">
      <h2 id="recent-uploads">Your unfinished and refused uploads</h2>
      <ul>
        {rows.map((u) => (
          <li key={u.id} data-testid="recent-upload" data-status={u.status}>
            <strong>{u.filename || 'Untitled file'}</strong>{' '}
            <span class="muted">
              {u.status === 'refused'
                ? `refused: ${u.refusal ?? 'no reason given'}`
                : u.status === 'uploading'
                  ? `${Math.round((u.progress ?? 0) * 100)} % uploaded — pick the same file to continue`
                  : u.status}
            </span>
            {u.vodId && (
              <>
                {' '}
                <a href={`/v/${u.vodId}`}>open</a>
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function UploadPage({ slug }: { slug: string }) {
  const { status: sessionStatus, user } = useSession();
  const [channel, setChannel] = useState<Channel | null | 'missing'>(null);
  const [error, setError] = useState<string | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [title, setTitle] = useState('');
  const [phase, setPhase] = useState<Phase>('idle');
  const [progress, setProgress] = useState<Progress>({ sent: 0, total: 0, speed: null });
  const [message, setMessage] = useState<string | null>(null);
  const [resumedFrom, setResumedFrom] = useState<number | null>(null);
  const [dragging, setDragging] = useState(false);
  const [refresh, setRefresh] = useState(0);
  const upload = useRef<Upload | null>(null);
  const samples = useRef<{ t: number; bytes: number }[]>([]);
  useTitle(channel && channel !== 'missing' ? `Upload · ${channel.title}` : 'Upload a video');

  useEffect(() => {
    api.channel(slug).then(setChannel, (err) => (err instanceof ApiError && err.status === 404 ? setChannel('missing') : setError(String(err.message ?? err))));
  }, [slug]);
  // leaving the page stops the transfer (it stays resumable); it does not delete it
  useEffect(() => () => void upload.current?.abort(), []);

  if (error) return <ErrorState message={error} />;
  if (sessionStatus === 'loading' || channel === null) return <Loading label="Opening the upload page…" />;
  if (channel === 'missing') return <NotFoundPage what="This channel" />;
  if (!user) {
    return (
      <div class="state" data-testid="upload-signed-out">
        <h2>Sign in to upload</h2>
        <p>Sign in with the channel owner's account to upload videos to it.</p>
        <a class="btn btn-primary" href={authHref('/sign-in', `/studio/${slug}/upload`)}>
          Sign in
        </a>
      </div>
    );
  }
  const owner = user.id === channel.owner.id || user.role === 'admin';

  const busy = phase === 'uploading' || phase === 'finishing';
  const pick = (f: File | null | undefined) => {
    if (!f || busy) return;
    void upload.current?.abort();
    upload.current = null;
    setFile(f);
    setPhase('idle');
    setMessage(null);
    setResumedFrom(null);
    setProgress({ sent: 0, total: f.size, speed: null });
    if (!title) setTitle(f.name.replace(/\.[^.]+$/, '').slice(0, TITLE_MAX));
  };

  const start = async () => {
    if (!file) return;
    if (file.size === 0) {
      setPhase('refused');
      setMessage('This file is empty.');
      return;
    }
    const limits = await uploadLimits();
    if (limits.maxFileBytes !== null && file.size > limits.maxFileBytes) {
      setPhase('refused');
      setMessage(`This file is larger than the ${formatBytes(limits.maxFileBytes)} this server accepts.`);
      return;
    }
    setMessage(null);
    setPhase('uploading');
    samples.current = [{ t: performance.now(), bytes: 0 }];
    const metadata: Record<string, string> = { channel: slug, filename: file.name, filetype: file.type || 'application/octet-stream' };
    if (title.trim()) metadata.title = title.trim().slice(0, TITLE_MAX);
    let vodId: string | null = null;
    const u = new Upload(file, {
      endpoint: '/api/uploads',
      chunkSize: limits.chunkBytes,
      retryDelays: RETRY_DELAYS_MS,
      metadata,
      removeFingerprintOnSuccess: true,
      onAfterResponse: (_req, res) => {
        vodId = res.getHeader('Glint-Vod-Id') ?? vodId;
      },
      onProgress: (sent, total) => {
        const now = performance.now();
        const s = samples.current;
        s.push({ t: now, bytes: sent });
        while (s.length > 2 && now - s[0]!.t > SPEED_WINDOW_MS) s.shift();
        const first = s[0]!;
        const speed = now - first.t > 250 ? ((sent - first.bytes) * 1000) / (now - first.t) : null;
        setProgress({ sent, total, speed });
        if (sent >= total) setPhase('finishing');
      },
      onSuccess: ({ lastResponse }) => {
        const id = lastResponse.getHeader('Glint-Vod-Id') ?? vodId;
        upload.current = null;
        if (!id) {
          setPhase('failed');
          setMessage('The upload finished, but the server did not say which video it became; see your channel.');
          return;
        }
        setPhase('done');
        navigate(`/v/${id}`);
      },
      onError: (err) => {
        const res = (err as DetailedError).originalResponse;
        const status = res?.getStatus() ?? 0;
        upload.current = null;
        setRefresh((n) => n + 1);
        if (status >= 400 && status < 500) {
          setPhase('refused');
          setMessage(refusalOf(res, 'The server refused this upload'));
        } else {
          setPhase('failed');
          setMessage(`${refusalOf(res, 'The upload stopped')}. Pick the same file to continue where it stopped.`);
        }
      },
    });
    upload.current = u;
    // the same file picked after a reload (or a failure): continue where the server has it
    const previous = await u.findPreviousUploads().catch(() => []);
    const last = previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
    if (last) {
      u.resumeFromPreviousUpload(last);
      setResumedFrom(Date.parse(last.creationTime));
    }
    u.start();
  };

  const pause = () => {
    void upload.current?.abort();
    setPhase('paused');
  };
  const resume = () => {
    samples.current = [{ t: performance.now(), bytes: progress.sent }];
    setPhase('uploading');
    upload.current?.start();
  };
  const cancel = async () => {
    const u = upload.current;
    upload.current = null;
    // (shouldTerminate: the server deletes what it has of it)
    await u?.abort(true).catch(() => undefined);
    setPhase('idle');
    setFile(null);
    setProgress({ sent: 0, total: 0, speed: null });
    setMessage('Upload cancelled.');
    setRefresh((n) => n + 1);
  };

  const pct = progress.total ? Math.floor((progress.sent / progress.total) * 100) : 0;
  const left = progress.speed ? (progress.total - progress.sent) / progress.speed : null;
  return (
    <section class="upload-page" data-testid="upload-page">
      <div class="page-head">
        <div>
          <h1>Upload a video · {channel.title}</h1>
          <p class="muted">
            <a href={`/c/${slug}`}>/c/{slug}</a> · <a href={`/studio/${slug}`}>Studio</a>
          </p>
        </div>
      </div>
      {!owner && (
        <p class="panel upload-message" role="alert" data-testid="upload-not-owner">
          Only this channel's owner can upload videos to it.
        </p>
      )}
      <div class="panel upload-form">
        <label
          class={`upload-drop${dragging ? ' is-dragging' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            pick(e.dataTransfer?.files[0]);
          }}
          data-testid="upload-drop"
        >
          <input type="file" accept="video/*,.mkv,.mov,.mp4,.webm" disabled={busy} onChange={(e) => pick(e.currentTarget.files?.[0])} data-testid="upload-file" />
          <span>{file ? `${file.name} · ${formatBytes(file.size)}` : 'Drop a video here, or choose a file'}</span>
        </label>
        <p class="muted small">A stopped upload (a closed tab, a lost connection) continues: pick the same file to continue.</p>
        <div class="field">
          <label for="upload-title">Title (optional)</label>
          <input id="upload-title" type="text" maxLength={TITLE_MAX} value={title} disabled={busy} onInput={(e) => setTitle(e.currentTarget.value)} data-testid="upload-title" />
        </div>
        <div class="upload-actions">
          {(phase === 'idle' || phase === 'refused' || phase === 'failed') && (
            <button type="button" class="btn btn-primary" disabled={!file || !owner} onClick={() => void start()} data-testid="upload-start">
              Upload
            </button>
          )}
          {phase === 'uploading' && (
            <button type="button" class="btn btn-secondary" onClick={pause} data-testid="upload-pause">
              Pause
            </button>
          )}
          {phase === 'paused' && (
            <button type="button" class="btn btn-primary" onClick={resume} data-testid="upload-resume">
              Resume
            </button>
          )}
          {(phase === 'uploading' || phase === 'paused') && (
            <button type="button" class="btn btn-secondary" onClick={() => void cancel()} data-testid="upload-cancel">
              Cancel
            </button>
          )}
        </div>
        {phase !== 'idle' && phase !== 'refused' && progress.total > 0 && (
          <div class="upload-progress" data-testid="upload-progress" data-percent={pct}>
            <progress max={progress.total} value={progress.sent} aria-label="Uploaded" />
            <p>
              <strong data-testid="upload-percent">{pct} %</strong> · {formatBytes(progress.sent)} of {formatBytes(progress.total)}
              {progress.speed !== null && phase === 'uploading' && (
                <>
                  {' '}
                  · <span data-testid="upload-speed">{formatBytes(Math.round(progress.speed))}/s</span>
                  {left !== null && <> · <span data-testid="upload-left">{timeLeft(left)} left</span></>}
                </>
              )}
              {phase === 'paused' && ' · paused'}
              {phase === 'finishing' && ' · checking the video…'}
            </p>
            {resumedFrom !== null && <p class="muted small" data-testid="upload-resumed">Continuing the upload you started earlier.</p>}
          </div>
        )}
        {message && (
          <p class={`upload-message${phase === 'refused' || phase === 'failed' ? ' is-error' : ''}`} role={phase === 'refused' || phase === 'failed' ? 'alert' : 'status'} data-testid={phase === 'refused' ? 'upload-refused' : 'upload-message'}>
            {message}
          </p>
        )}
      </div>
      <RecentUploads refresh={refresh} />
    </section>
  );
}
