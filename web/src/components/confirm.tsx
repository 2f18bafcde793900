// A button that asks for confirmation inline (no modal dialogs), then runs an async action.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { Button } from './form.tsx';

type Props = {
  label: ComponentChildren;
  prompt: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  testid: string;
  variant?: 'danger' | 'secondary';
  size?: 'sm' | 'md';
};

export function ConfirmButton({ label, prompt, confirmLabel, onConfirm, testid, variant = 'danger', size = 'sm' }: Props) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sizeCls = size === 'sm' ? 'btn-sm' : '';

  if (!asking) {
    return (
      <Button variant={variant === 'danger' ? 'danger-outline' : 'secondary'} class={sizeCls} onClick={() => setAsking(true)} data-testid={testid}>
        {label}
      </Button>
    );
  }
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      setAsking(false);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="confirm" role="group" data-testid={`${testid}-prompt`}>
      <span class="confirm-text">{prompt}</span>
      <span class="confirm-actions">
        <Button variant={variant} class={sizeCls} busy={busy} onClick={run} data-testid={`${testid}-confirm`}>
          {confirmLabel}
        </Button>
        <Button variant="ghost" class={sizeCls} disabled={busy} onClick={() => setAsking(false)} data-testid={`${testid}-cancel`}>
          Cancel
        </Button>
      </span>
      {error && (
        <p class="field-error" role="alert" data-testid="error-message">
          {error}
        </p>
      )}
    </div>
  );
}
