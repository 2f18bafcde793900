// The mailed verification link's page: sends its token to better-auth once and says how it went.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { Loading } from '../components/status.tsx';
import { useLocation } from '../router.ts';
import { refreshSession, useSession } from '../session.ts';
import { useTitle } from '../title.ts';

type State = { status: 'checking' } | { status: 'verified' } | { status: 'failed'; message: string };

export function VerifyEmailPage() {
  useTitle('Verify your email');
  const token = useLocation().search.get('token');
  const { user } = useSession();
  const [state, setState] = useState<State>(token ? { status: 'checking' } : { status: 'failed', message: 'This link has no token: open the link from the mail as it is.' });

  useEffect(() => {
    if (!token) return;
    api.verifyEmail(token).then(
      async () => {
        await refreshSession(); // signed in by the link, or the banner goes
        setState({ status: 'verified' });
      },
      (err: unknown) => setState({ status: 'failed', message: err instanceof ApiError ? err.message : 'The link could not be checked; try again.' }),
    );
  }, [token]);

  if (state.status === 'checking') return <Loading label="Checking your link…" />;
  return (
    <section class="auth-page">
      {state.status === 'verified' ? (
        <div class="panel auth-card" data-testid="verify-done">
          <h1>Email verified</h1>
          <p>Thanks: your email address is confirmed.</p>
          <a class="btn btn-primary btn-block" href={user ? '/me/channels' : '/sign-in'}>
            {user ? 'Go to your channels' : 'Sign in'}
          </a>
        </div>
      ) : (
        <div class="panel auth-card" data-testid="verify-failed">
          <h1>This link did not work</h1>
          <p class="alert alert-error" role="alert">
            {state.message}
          </p>
          <p>{user ? 'Ask for a new link from your settings.' : 'Sign in, then ask for a new link from your settings.'}</p>
          <a class="btn btn-primary btn-block" href={user ? '/settings' : '/sign-in?next=%2Fsettings'}>
            {user ? 'Open settings' : 'Sign in'}
          </a>
        </div>
      )}
    </section>
  );
}
