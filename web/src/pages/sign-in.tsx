// Sign in with email and password.
import { useState } from 'preact/hooks';
import { Button, Field, FormError } from '../components/form.tsx';
import { signIn } from '../session.ts';
import { authHref, useAuthForm } from './auth-common.ts';

export function SignInPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { search, busy, errors, submit, bind } = useAuthForm(
    'Sign in',
    () => {
      const fields: Record<string, string> = {};
      if (!email.trim()) fields.email = 'Enter your email address.';
      if (!password) fields.password = 'Enter your password.';
      return fields;
    },
    () => signIn(email.trim(), password),
    ['email', 'password'],
  );

  return (
    <section class="auth-page">
      <form class="panel auth-card" onSubmit={submit} noValidate data-testid="sign-in-form">
        <h1>Sign in</h1>
        <p class="muted">Welcome back. Sign in to manage your channels.</p>
        <FormError message={errors.message} />
        <Field label="Email" type="email" autocomplete="email" required {...bind('email', email, setEmail)} />
        <Field
          label="Password"
          type="password"
          autocomplete="current-password"
          required
          {...bind('password', password, setPassword)}
          hint={<a href="/reset-password" data-testid="forgot-password">Forgot your password?</a>}
        />
        <Button type="submit" busy={busy} class="btn-block" data-testid="sign-in-submit">
          Sign in
        </Button>
        <p class="auth-switch">
          New to Glint?{' '}
          <a href={authHref('/sign-up', search.get('next'))}>Create an account</a>
        </p>
      </form>
    </section>
  );
}
