// The mail outbox (admins): what Glint kept instead of sending, on an instance without SMTP_URL — reset and
// verification links to hand on to the people they were for.
import { useEffect, useState } from 'preact/hooks';
import { api, type OutboxPage } from '../api.ts';
import { ErrorState, Loading } from '../components/status.tsx';
import { formatDateTime } from '../format.ts';
import { useSession } from '../session.ts';
import { useTitle } from '../title.ts';
import { authHref } from './auth-common.ts';

export function AdminOutboxPage() {
  useTitle('Mail outbox');
  const { status, user } = useSession();
  const [page, setPage] = useState<OutboxPage | null>(null);
  const [error, setError] = useState('');
  const admin = user?.role === 'admin';

  useEffect(() => {
    if (!admin) return;
    api.outbox().then(setPage, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, [admin]);

  if (status === 'loading') return <Loading />;
  if (!user)
    return (
      <p class="panel">
        <a href={authHref('/sign-in', '/admin/outbox')}>Sign in</a> as an admin to read the mail outbox.
      </p>
    );
  if (!admin) return <ErrorState title="Admins only" message="The mail outbox is for this instance's admins." />;
  if (error) return <ErrorState message={error} />;
  if (!page) return <Loading label="Loading the outbox…" />;
  return (
    <section class="outbox-page" aria-labelledby="outbox-heading" data-testid="outbox-page">
      <h1 id="outbox-heading">Mail outbox</h1>
      <p class="muted">
        {page.via === 'smtp'
          ? 'This instance sends mail through its SMTP server (SMTP_URL), so nothing is kept here.'
          : 'No SMTP server is configured (SMTP_URL), so Glint keeps its mail here: pass the links on to the people they are for. Newest first.'}
      </p>
      {page.mails.length === 0 ? (
        <p class="muted" data-testid="outbox-empty">
          No mail yet.
        </p>
      ) : (
        <ol class="outbox-list">
          {page.mails.map((m) => (
            <li key={m.id} class="panel outbox-mail" data-testid="outbox-mail">
              <p class="outbox-meta">
                <strong>{m.subject}</strong>
                <span>to {m.to}</span>
                <time dateTime={m.createdAt}>{formatDateTime(m.createdAt)}</time>
              </p>
              <pre class="outbox-text">{m.text}</pre>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
