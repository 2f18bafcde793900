// A freshly created stream key, shown this once with a copy button and a warning.
import { useEffect, useRef, useState } from 'preact/hooks';
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

export function KeyReveal({ created, rotated, onDismiss }: { created: NewStreamKey; rotated: boolean; onDismiss: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');

  useEffect(() => {
    setCopied('idle');
    box.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    input.current?.focus();
    input.current?.select();
  }, [created.key]);

  const copy = async () => setCopied((await copyText(created.key, input.current)) ? 'copied' : 'failed');

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
      <div class="key-copy-row">
        <label class="sr-only" for={`key-${created.id}`}>
          Stream key
        </label>
        <input
          id={`key-${created.id}`}
          class="key-value"
          readOnly
          value={created.key}
          spellcheck={false}
          autocomplete="off"
          onFocus={(e) => e.currentTarget.select()}
          data-testid="key-reveal-value"
        />
        <button type="button" class="btn btn-primary" onClick={copy} data-testid="key-copy">
          {copied === 'copied' ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p class="key-copy-status" role="status" aria-live="polite">
        {copied === 'copied' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Could not copy automatically: select the key and copy it.' : ''}
      </p>
      <button type="button" class="btn btn-secondary btn-sm" onClick={onDismiss} data-testid="key-reveal-dismiss">
        I have saved it
      </button>
    </div>
  );
}
