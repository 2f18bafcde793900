// Create an account (signs in at once, unless this instance requires a verified email first). Afterwards: the
// channel onboarding (/channels), or ?next= when one was given.
import { useState } from 'preact/hooks';
import { NAME_MAX } from '../../../shared/bounds.ts';
import { Button, Field, FormError } from '../components/form.tsx';
import { signUp } from '../session.ts';
import { authHref, NEW_PASSWORD, newPasswordProblem, useAuthForm } from './auth-common.ts';

export function SignUpPage() {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { search, busy, errors, submit, bind } = useAuthForm(
    'Sign up',
    () => {
      const fields: Record<string, string> = {};
      if (!name.trim()) fields.name = 'Enter a display name.';
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) fields.email = 'Enter a valid email address.';
      const weak = newPasswordProblem(password);
      if (weak) fields.password = weak;
      return fields;
    },
    () => signUp(name.trim(), email.trim(), password),
    ['name', 'email', 'password'],
    '/me/channels',
  );

  return (
    <section class="auth-page">
      <form class="panel auth-card" onSubmit={submit} noValidate data-testid="sign-up-form">
        <h1>Create your account</h1>
        <p class="muted">Start your own channel and go live in minutes.</p>
        <FormError message={errors.message} />
        <Field label="Display name" autocomplete="nickname" required maxLength={NAME_MAX} {...bind('name', name, setName)} />
        <Field label="Email" type="email" autocomplete="email" required {...bind('email', email, setEmail)} />
        <Field label="Password" {...NEW_PASSWORD} {...bind('password', password, setPassword)} />
        <Button type="submit" busy={busy} class="btn-block" data-testid="sign-up-submit">
          Create account
        </Button>
        <p class="auth-switch">
          Already have an account?{' '}
          <a href={authHref('/sign-in', search.get('next'))}>Sign in</a>
        </p>
      </form>
    </section>
  );
}
