// Sign in with email and password.
import { useEffect, useState } from 'preact/hooks';
import { Button, errorsFor, Field, focusFirstInvalid, FormError, withoutField, type FormErrors } from '../components/form.tsx';
import { navigate, useLocation } from '../router.ts';
import { signIn, useSession } from '../session.ts';
import { useTitle } from '../title.ts';
import { nextPath } from './auth-common.ts';

export function SignInPage() {
  useTitle('Sign in');
  const { search } = useLocation();
  const session = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, message: null });

  useEffect(() => {
    if (session.user && !busy) navigate(nextPath(search), { replace: true });
  }, [session.user]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const fields: Record<string, string> = {};
    if (!email.trim()) fields.email = 'Enter your email address.';
    if (!password) fields.password = 'Enter your password.';
    if (Object.keys(fields).length) {
      setErrors({ fields, message: null });
      return focusFirstInvalid(form);
    }
    setBusy(true);
    setErrors({ fields: {}, message: null });
    try {
      await signIn(email.trim(), password);
      navigate(nextPath(search), { replace: true });
    } catch (err) {
      setErrors(errorsFor(err, ['email', 'password']));
      focusFirstInvalid(form);
      setBusy(false);
    }
  };

  return (
    <section class="auth-page">
      <form class="panel auth-card" onSubmit={submit} noValidate data-testid="sign-in-form">
        <h1>Sign in</h1>
        <p class="muted">Welcome back. Sign in to manage your channels.</p>
        <FormError message={errors.message} />
        <Field
          label="Email"
          name="email"
          type="email"
          autocomplete="email"
          required
          value={email}
          onInput={(e) => {
            setEmail(e.currentTarget.value);
            setErrors((x) => withoutField(x, 'email'));
          }}
          error={errors.fields.email}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => {
            setPassword(e.currentTarget.value);
            setErrors((x) => withoutField(x, 'password'));
          }}
          error={errors.fields.password}
        />
        <Button type="submit" busy={busy} class="btn-block" data-testid="sign-in-submit">
          Sign in
        </Button>
        <p class="auth-switch">
          New to Glint?{' '}
          <a href={`/sign-up${search.get('next') ? `?next=${encodeURIComponent(search.get('next')!)}` : ''}`}>Create an account</a>
        </p>
      </form>
    </section>
  );
}
