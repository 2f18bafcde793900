// Shown to a signed-in account whose email is not verified yet: a reminder and a button to send a fresh link.
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { useLocation } from '../router.ts';
import { useSession } from '../session.ts';

export function VerifyEmailBanner() {
  const { user } = useSession();
  const { path } = useLocation();
  const [sent, setSent] = useState<'idle' | 'busy' | 'sent' | string>('idle');
  // the verification page says how the link went itself
  if (!user || user.emailVerified || path === '/verify-email') return null;
  const resend = async () => {
    setSent('busy');
    try {
      await api.sendVerificationEmail(user.email);
      setSent('sent');
    } catch (err) {
      setSent(err instanceof ApiError ? err.message : 'Could not send the link; try again.');
    }
  };
  return (
    <div class="verify-banner" role="region" aria-label="Email verification" data-testid="verify-banner">
      <p>
        <strong>Verify your email.</strong> We sent a link to {user.email}.
        {sent === 'sent' && <span role="status"> A new link is on its way.</span>}
        {sent !== 'idle' && sent !== 'busy' && sent !== 'sent' && <span role="alert"> {sent}</span>}
      </p>
      <button type="button" class="btn btn-secondary btn-sm" onClick={resend} disabled={sent === 'busy'} data-testid="verify-resend">
        {sent === 'busy' ? 'Sending…' : 'Resend the link'}
      </button>
    </div>
  );
}
