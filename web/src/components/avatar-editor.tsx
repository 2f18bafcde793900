// Choose, preview and upload a channel avatar, or remove the current one.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, AVATAR_TYPES, DEFAULT_MAX_UPLOAD_BYTES, type Channel } from '../api.ts';
import { formatBytes } from '../format.ts';
import { Avatar } from './avatar.tsx';
import { Button, FormError } from './form.tsx';

export function AvatarEditor({ channel, onChange }: { channel: Channel; onChange: (c: Channel) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [busy, setBusy] = useState<'upload' | 'remove' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // the server's MAX_UPLOAD_BYTES; its default until the server says (the upload is checked there either way)
  const [maxBytes, setMaxBytes] = useState(DEFAULT_MAX_UPLOAD_BYTES);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => () => void (preview && URL.revokeObjectURL(preview)), [preview]);
  useEffect(() => void api.config().then((c) => setMaxBytes(c.maxUploadBytes), () => undefined), []);

  const reset = () => {
    setFile(null);
    setPreview(null);
    if (input.current) input.current.value = '';
  };

  const choose = (f: File | undefined) => {
    setError(null);
    setDone(null);
    if (!f) return reset();
    if (!(AVATAR_TYPES as readonly string[]).includes(f.type)) {
      reset();
      return setError('Choose a PNG, JPEG, GIF or WebP image.');
    }
    if (f.size > maxBytes) {
      reset();
      return setError(`That image is ${formatBytes(f.size)}; the limit is ${formatBytes(maxBytes)}.`);
    }
    setFile(f);
    setPreview(URL.createObjectURL(f));
  };

  const upload = async () => {
    if (!file) return;
    setBusy('upload');
    setError(null);
    try {
      onChange(await api.uploadAvatar(channel.slug, file));
      reset();
      setDone('Avatar updated.');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(null);
    }
  };

  const remove = async () => {
    setBusy('remove');
    setError(null);
    try {
      await api.removeAvatar(channel.slug);
      onChange(await api.channel(channel.slug));
      setDone('Avatar removed.');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(null);
    }
  };

  const inputId = `avatar-${channel.id}`;
  return (
    <section class="subpanel avatar-editor" aria-labelledby={`${inputId}-h`} data-testid="avatar-editor">
      <h3 id={`${inputId}-h`}>Avatar</h3>
      <div class="avatar-editor-body">
        <div class="avatar-preview" data-testid="avatar-preview" data-pending={file ? 'true' : undefined}>
          <Avatar channel={channel} size="xl" src={preview} />
          {file && <span class="badge badge-accent">Preview</span>}
        </div>
        <div class="avatar-controls">
          <input
            ref={input}
            id={inputId}
            class="sr-only file-input"
            type="file"
            accept={AVATAR_TYPES.join(',')}
            onChange={(e) => choose(e.currentTarget.files?.[0])}
            data-testid="avatar-input"
          />
          {file ? (
            <>
              <p class="small">
                <span class="file-name">{file.name}</span> <span class="muted">({formatBytes(file.size)})</span>
              </p>
              <div class="row">
                <Button busy={busy === 'upload'} onClick={upload} data-testid="avatar-upload">
                  Upload
                </Button>
                <Button variant="ghost" disabled={busy !== null} onClick={reset} data-testid="avatar-cancel">
                  Cancel
                </Button>
              </div>
            </>
          ) : (
            <>
              <label for={inputId} class="btn btn-secondary file-label" data-testid="avatar-choose">
                Choose image…
              </label>
              <p class="hint">PNG, JPEG, GIF or WebP, up to {formatBytes(maxBytes)}. Square images look best.</p>
              {channel.avatarUrl && (
                <Button variant="ghost" class="btn-sm text-danger" busy={busy === 'remove'} onClick={remove} data-testid="avatar-remove">
                  Remove avatar
                </Button>
              )}
            </>
          )}
          <FormError message={error} testid="error-message" />
          {done && (
            <p class="ok small" role="status">
              {done}
            </p>
          )}
        </div>
      </div>
    </section>
  );
}
