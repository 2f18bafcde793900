// Loading, error and empty states shared by the pages.
import type { ComponentChildren } from 'preact';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div class="state state-loading" role="status" data-testid="loading">
      <span class="spinner spinner-lg" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function ErrorState({ message, onRetry, title = 'Something went wrong' }: { message: string; onRetry?: () => void; title?: string }) {
  return (
    <div class="state state-error" role="alert" data-testid="error-state">
      <h2>{title}</h2>
      <p>{message}</p>
      {onRetry && (
        <button type="button" class="btn btn-secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children, testid = 'empty-state' }: { title: string; children?: ComponentChildren; testid?: string }) {
  return (
    <div class="state state-empty" data-testid={testid}>
      <div class="state-icon" aria-hidden="true">
        <svg viewBox="0 0 24 24" width="40" height="40" fill="none" stroke="currentColor" stroke-width="1.5">
          <rect x="3" y="5" width="18" height="12" rx="2" />
          <path d="M10 9l4 2-4 2z" fill="currentColor" />
          <path d="M8 20h8" />
        </svg>
      </div>
      <h2>{title}</h2>
      {children}
    </div>
  );
}

/** "Show more" under a list that pages: disabled while the next page loads, saying so when it could not. */
export function LoadMore({ more, onClick, testid }: { more: 'idle' | 'loading' | 'error'; onClick: () => void; testid: string }) {
  return (
    <div class="load-more">
      <button type="button" class="btn btn-secondary" onClick={onClick} disabled={more === 'loading'} data-testid={testid}>
        {more === 'loading' ? 'Loading…' : more === 'error' ? 'Could not load more; try again' : 'Show more'}
      </button>
    </div>
  );
}
