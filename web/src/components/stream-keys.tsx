// A channel's stream keys: create (with a label), list, rotate and revoke; new keys are revealed once. Beside them,
// where to go live with one: the studio (in the browser), or the RTMP server to paste into OBS (from GET /api/ingest,
// the studio's source too).
import { useEffect, useState } from 'preact/hooks';
import { api, type NewStreamKey, type StreamKey } from '../api.ts';
import { STREAM_KEY_LABEL_MAX } from '../../../shared/bounds.ts';
import { formatDateTime, timeAgo } from '../format.ts';
import { Button, errorsFor, FormError, type FormErrors } from './form.tsx';
import { CopyField, KeyReveal } from './key-reveal.tsx';

const MAX_KEYS = 10;

type Load = { status: 'loading' } | { status: 'error'; message: string } | { status: 'ready'; keys: StreamKey[] };

type Props = {
  slug: string;
  /** how many keys the channel has, once known and after every change (the page's onboarding steps follow it) */
  onKeys?: (count: number) => void;
};

export function StreamKeys({ slug, onKeys }: Props) {
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [rtmp, setRtmp] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, message: null });
  const [revealed, setRevealed] = useState<{ key: NewStreamKey; rotated: boolean } | null>(null);

  useEffect(() => {
    let live = true;
    setLoad({ status: 'loading' });
    api.streamKeys(slug).then(
      (keys) => live && setLoad({ status: 'ready', keys }),
      (err: unknown) => live && setLoad({ status: 'error', message: err instanceof Error ? err.message : String(err) }),
    );
    return () => {
      live = false;
    };
  }, [slug, attempt]);

  useEffect(() => {
    let live = true;
    api.ingest().then((i) => live && setRtmp(i.rtmp), () => undefined); // without it, the studio's WHIP still works
    return () => {
      live = false;
    };
  }, []);

  const count = load.status === 'ready' ? load.keys.length : null;
  useEffect(() => {
    if (count !== null) onKeys?.(count);
  }, [count]);

  const keys = load.status === 'ready' ? load.keys : [];
  const strip = ({ key: _secret, ...rest }: NewStreamKey): StreamKey => rest;

  const create = async (e: Event) => {
    e.preventDefault();
    if (label.trim().length > 40) return setErrors({ fields: { label: 'Keep the label under 40 characters.' }, message: null });
    setBusy(true);
    setErrors({ fields: {}, message: null });
    try {
      const created = await api.createStreamKey(slug, label.trim());
      setLoad({ status: 'ready', keys: [...keys, strip(created)] });
      setRevealed({ key: created, rotated: false });
      setLabel('');
    } catch (err) {
      setErrors(errorsFor(err, ['label']));
    } finally {
      setBusy(false);
    }
  };

  const rotate = async (k: StreamKey) => {
    const created = await api.rotateStreamKey(slug, k.id);
    setLoad({ status: 'ready', keys: keys.map((x) => (x.id === k.id ? strip(created) : x)) });
    setRevealed({ key: created, rotated: true });
  };

  const revoke = async (k: StreamKey) => {
    await api.revokeStreamKey(slug, k.id);
    setLoad({ status: 'ready', keys: keys.filter((x) => x.id !== k.id) });
    if (revealed?.key.id === k.id) setRevealed(null);
  };

  const full = keys.length >= MAX_KEYS;

  return (
    <section class="subpanel stream-keys" aria-labelledby={`keys-${slug}`} data-testid="stream-keys">
      <div class="subpanel-head">
        <h3 id={`keys-${slug}`}>Stream keys</h3>
        {load.status === 'ready' && (
          <span class="muted small">
            {keys.length} of {MAX_KEYS}
          </span>
        )}
      </div>
      <p class="muted small">
        Your broadcasting software uses a stream key to go live on this channel. Give each setup its own key so you can revoke
        one without touching the others.
      </p>

      <form class="inline-form" onSubmit={create} noValidate data-testid="stream-key-form">
        <div class={`field grow${errors.fields.label ? ' has-error' : ''}`}>
          <label for={`key-label-${slug}`}>Label</label>
          <input
            id={`key-label-${slug}`}
            name="label"
            placeholder="e.g. OBS at home"
            maxLength={STREAM_KEY_LABEL_MAX}
            value={label}
            onInput={(e) => setLabel(e.currentTarget.value)}
            aria-invalid={errors.fields.label ? true : undefined}
            aria-describedby={errors.fields.label ? `key-label-${slug}-error` : undefined}
            data-testid="stream-key-label"
          />
          {errors.fields.label && (
            <p class="field-error" id={`key-label-${slug}-error`} data-testid="error-label">
              {errors.fields.label}
            </p>
          )}
        </div>
        <Button type="submit" busy={busy} disabled={full} data-testid="stream-key-create">
          Create key
        </Button>
      </form>
      {full && <p class="hint">A channel can have at most {MAX_KEYS} keys; revoke one to create another.</p>}
      <FormError message={errors.message} />

      {revealed && <KeyReveal created={revealed.key} rotated={revealed.rotated} rtmp={rtmp} onDismiss={() => setRevealed(null)} />}

      {load.status === 'loading' && <p class="muted small" role="status">Loading keys…</p>}
      {load.status === 'error' && (
        <div class="alert alert-error" role="alert" data-testid="error-message">
          {load.message}{' '}
          <button type="button" class="link-button" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </div>
      )}
      {load.status === 'ready' &&
        (keys.length === 0 ? (
          <p class="keys-empty" data-testid="stream-keys-empty">
            No stream keys yet. Create one to go live.
          </p>
        ) : (
          <div class="table-wrap">
            <table class="keys-table" data-testid="stream-key-list">
              <thead>
                <tr>
                  <th scope="col">Label</th>
                  <th scope="col">Key</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              {keys.map((k) => (
                <KeyRow key={k.id} k={k} onRotate={() => rotate(k)} onRevoke={() => revoke(k)} />
              ))}
            </table>
          </div>
        ))}

      <div class="go-live" data-testid="go-live">
        <h4>Go live</h4>
        <div class="go-live-ways">
          <div class="go-live-way">
            <p class="small">
              <strong>In the browser:</strong> your camera or screen, no software to install.
            </p>
            <a class="btn btn-primary" href={`/studio/${slug}`} data-testid="open-studio">
              Open studio
            </a>
          </div>
          <div class="go-live-way">
            {rtmp ? (
              <CopyField label="From OBS: RTMP server" hint="Settings → Stream → Service “Custom…”; the stream key is one of the keys above." value={rtmp} testid="rtmp-server" />
            ) : (
              <p class="small muted">
                <strong>From OBS:</strong> the studio shows the WHIP address to use (OBS 30 or later).
              </p>
            )}
          </div>
        </div>
      </div>
    </section>
  );
}

/** One key: its row, and below it an inline confirmation when rotating or revoking. */
function KeyRow({ k, onRotate, onRevoke }: { k: StreamKey; onRotate: () => Promise<void>; onRevoke: () => Promise<void> }) {
  const [asking, setAsking] = useState<'rotate' | 'revoke' | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const ask = (what: 'rotate' | 'revoke') => {
    setError(null);
    setAsking(asking === what ? null : what);
  };
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await (asking === 'rotate' ? onRotate() : onRevoke());
      setAsking(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <tbody data-testid="stream-key-row" data-key-id={k.id} class={asking ? 'asking' : undefined}>
      <tr>
        <td data-label="Label" class="key-label" data-testid="stream-key-row-label">
          {k.label}
        </td>
        <td data-label="Key">
          <code class="key-prefix" data-testid="stream-key-row-prefix">
            {k.prefix}…
          </code>
        </td>
        <td data-label="Created">
          <time dateTime={k.createdAt} title={formatDateTime(k.createdAt)}>
            {timeAgo(k.createdAt)}
          </time>
        </td>
        <td data-label="Last used">
          {k.lastUsedAt ? (
            <time dateTime={k.lastUsedAt} title={formatDateTime(k.lastUsedAt)}>
              {timeAgo(k.lastUsedAt)}
            </time>
          ) : (
            <span class="muted">Never</span>
          )}
        </td>
        <td class="key-actions">
          <Button variant="secondary" class="btn-sm" aria-expanded={asking === 'rotate'} onClick={() => ask('rotate')} data-testid="stream-key-rotate">
            Rotate
          </Button>
          <Button variant="ghost" class="btn-sm text-danger" aria-expanded={asking === 'revoke'} onClick={() => ask('revoke')} data-testid="stream-key-revoke">
            Revoke
          </Button>
        </td>
      </tr>
      {asking && (
        <tr class="confirm-row">
          <td colSpan={5}>
            <div class="confirm" role="group" aria-label={asking === 'rotate' ? 'Confirm rotation' : 'Confirm revocation'} data-testid={`stream-key-${asking}-prompt`}>
              <span class="confirm-text">
                {asking === 'rotate'
                  ? `Replace “${k.label}” with a new key? The current key stops working at once.`
                  : `Revoke “${k.label}”? Anything streaming with it is cut off, and the key cannot be used again.`}
              </span>
              <span class="confirm-actions">
                <Button variant={asking === 'rotate' ? 'primary' : 'danger'} class="btn-sm" busy={busy} onClick={run} data-testid={`stream-key-${asking}-confirm`}>
                  {asking === 'rotate' ? 'Rotate key' : 'Revoke key'}
                </Button>
                <Button variant="ghost" class="btn-sm" disabled={busy} onClick={() => setAsking(null)} data-testid={`stream-key-${asking}-cancel`}>
                  Cancel
                </Button>
              </span>
              {error && (
                <p class="field-error" role="alert" data-testid="error-message">
                  {error}
                </p>
              )}
            </div>
          </td>
        </tr>
      )}
    </tbody>
  );
}
