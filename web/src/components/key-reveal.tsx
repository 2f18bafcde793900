// A freshly created stream key, shown this once with a copy button and a warning, beside the RTMP server it goes with;
// and the copy field both use.
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { NewStreamKey } from '../api.ts';

async function copyText(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API unavailable (plain http on another host): select the text and use the legacy command.
    if (!input) return false;
    input.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

type CopyFieldProps = {
  label: string;
  /** a line under the label: where the value goes */
  hint?: string;
  value: string;
  /** its input's test id; the button's is `${testid}-copy` unless given */
  testid: string;
  copyTestid?: string;
  /** a secret shown once: focused and selected when shown, and its Copy the primary button */
  focus?: boolean;
};

/** A read-only value with a label and a Copy button (and a spoken confirmation). */
export function CopyField({ label, hint, value, testid, copyTestid, focus }: CopyFieldProps) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  const id = `copy${useId()}`;

  useEffect(() => {
    setCopied('idle');
    if (!focus) return;
    input.current?.focus();
    input.current?.select();
  }, [value]);

  const copy = async () => setCopied((await copyText(value, input.current)) ? 'copied' : 'failed');

  return (
    <div class="copy-field">
      <label for={id}>{label}</label>
      {hint && <p class="hint">{hint}</p>}
      <div class="key-copy-row">
        <input id={id} ref={input} class="key-value" readOnly value={value} spellcheck={false} autocomplete="off" onFocus={(e) => e.currentTarget.select()} data-testid={testid} />
        <button type="button" class={`btn ${focus ? 'btn-primary' : 'btn-secondary'}`} onClick={copy} aria-label={`Copy ${label.toLowerCase()}`} data-testid={copyTestid ?? `${testid}-copy`}>
          {copied === 'copied' ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p class="key-copy-status" role="status" aria-live="polite">
        {copied === 'copied' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Could not copy automatically: select it and copy it.' : ''}
      </p>
    </div>
  );
}

type RevealProps = {
  created: NewStreamKey;
  rotated: boolean;
  /** the RTMP server OBS sends to (null: RTMP ingest is off, or not known yet) */
  rtmp?: string | null;
  onDismiss: () => void;
};

export function KeyReveal({ created, rotated, rtmp, onDismiss }: RevealProps) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    box.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, [created.key]);

  return (
    <div class="key-reveal" role="region" aria-label="New stream key" ref={box} data-testid="key-reveal" data-key-id={created.id}>
      <div class="key-reveal-head">
        <svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true">
          <path d="M10 2l9 16H1z" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round" />
          <path d="M10 8v4M10 14.5v.5" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" />
        </svg>
        <strong>
          {rotated ? 'Key rotated' : 'Key created'}: “{created.label}”
        </strong>
      </div>
      <p class="key-warning" data-testid="key-reveal-warning">
        Copy this key now: it is shown only once and cannot be retrieved later. Keep it secret, anyone who has it can stream to
        your channel.{rotated ? ' The previous key has stopped working.' : ''}
      </p>
      <CopyField label="Stream key" value={created.key} testid="key-reveal-value" copyTestid="key-copy" focus />
      {rtmp && (
        <>
          <CopyField label="Server" hint="In OBS: Settings → Stream → Service “Custom…”, with the key above." value={rtmp} testid="key-reveal-server" />
          <CopyField label="Full RTMP URL" hint="Server and key in one, for tools that take a single URL." value={`${rtmp}/${created.key}`} testid="key-reveal-rtmp-url" />
        </>
      )}
      <button type="button" class="btn btn-secondary btn-sm" onClick={onDismiss} data-testid="key-reveal-dismiss">
        I have saved it
      </button>
    </div>
  );
}
