// Password reset: without a token, ask for the link by email; with the mailed link's ?token=, choose a new password.
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Button, Field, FormError } from '../components/form.tsx';
import { useLocation } from '../router.ts';
import { useTitle } from '../title.ts';
import { NEW_PASSWORD, newPasswordProblem, useSimpleForm } from './auth-common.ts';


function RequestLink() {
  const [email, setEmail] = useState('');
  const { busy, done, errors, submit, bind } = useSimpleForm(
    () => (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim()) ? {} : { email: 'Enter the email address of your account.' }),
    () => api.requestPasswordReset(email.trim()),
    ['email'],
  );
  if (done) {
    return (
      <div class="panel auth-card" data-testid="reset-requested">
        <h1>Check your email</h1>
        <p>If an account uses {email.trim()}, we have sent it a link to choose a new password. It works once, for an hour.</p>
        <p class="auth-switch">
          <a href="/sign-in">Back to sign in</a>
        </p>
      </div>
    );
  }
  return (
    <form class="panel auth-card" onSubmit={submit} noValidate data-testid="reset-request-form">
      <h1>Reset your password</h1>
      <p class="muted">Enter your account's email address and we will send you a link to choose a new password.</p>
      <FormError message={errors.message} />
      <Field label="Email" type="email" autocomplete="email" required {...bind('email', email, setEmail)} />
      <Button type="submit" busy={busy} class="btn-block" data-testid="reset-request-submit">
        Send the link
      </Button>
      <p class="auth-switch">
        <a href="/sign-in">Back to sign in</a>
      </p>
    </form>
  );
}

function ChoosePassword({ token }: { token: string }) {
  const [password, setPassword] = useState('');
  const { busy, done, errors, submit, bind } = useSimpleForm(
    () => ({ password: newPasswordProblem(password) }),
    () => api.resetPassword(token, password),
    ['password'],
  );
  if (done) {
    return (
      <div class="panel auth-card" data-testid="reset-done">
        <h1>Password changed</h1>
        <p>Your new password is set, and every other session of your account has been signed out.</p>
        <a class="btn btn-primary btn-block" href="/sign-in" data-testid="reset-sign-in">
          Sign in
        </a>
      </div>
    );
  }
  return (
    <form class="panel auth-card" onSubmit={submit} noValidate data-testid="reset-form">
      <h1>Choose a new password</h1>
      <FormError message={errors.message} />
      {errors.message && (
        <p class="auth-switch">
          <a href="/reset-password">Ask for a new link</a>
        </p>
      )}
      <Field label="New password" {...NEW_PASSWORD} {...bind('password', password, setPassword)} />
      <Button type="submit" busy={busy} class="btn-block" data-testid="reset-submit">
        Set the new password
      </Button>
    </form>
  );
}

export function ResetPasswordPage() {
  useTitle('Reset your password');
  const token = useLocation().search.get('token');
  return <section class="auth-page">{token ? <ChoosePassword token={token} /> : <RequestLink />}</section>;
}
