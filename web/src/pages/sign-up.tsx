// Create an account (signs in at once).
import { useEffect, useState } from 'preact/hooks';
import { PASSWORD_MAX, PASSWORD_MIN } from '../api.ts';
import { NAME_MAX } from '../../../shared/bounds.ts';
import { Button, errorsFor, Field, focusFirstInvalid, FormError, withoutField, type FormErrors } from '../components/form.tsx';
import { navigate, useLocation } from '../router.ts';
import { signUp, useSession } from '../session.ts';
import { useTitle } from '../title.ts';
import { nextPath } from './auth-common.ts';

export function SignUpPage() {
  useTitle('Sign up');
  const { search } = useLocation();
  const session = useSession();
  const [name, setName] = useState('');
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
    if (!name.trim()) fields.name = 'Enter a display name.';
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) fields.email = 'Enter a valid email address.';
    if (password.length < PASSWORD_MIN) fields.password = `Use at least ${PASSWORD_MIN} characters.`;
    else if (password.length > PASSWORD_MAX) fields.password = `Use at most ${PASSWORD_MAX} characters.`;
    if (Object.keys(fields).length) {
      setErrors({ fields, message: null });
      return focusFirstInvalid(form);
    }
    setBusy(true);
    setErrors({ fields: {}, message: null });
    try {
      await signUp(name.trim(), email.trim(), password);
      navigate(nextPath(search), { replace: true });
    } catch (err) {
      setErrors(errorsFor(err, ['name', 'email', 'password']));
      focusFirstInvalid(form);
      setBusy(false);
    }
  };

  return (
    <section class="auth-page">
      <form class="panel auth-card" onSubmit={submit} noValidate data-testid="sign-up-form">
        <h1>Create your account</h1>
        <p class="muted">Start your own channel and go live in minutes.</p>
        <FormError message={errors.message} />
        <Field
          label="Display name"
          name="name"
          autocomplete="nickname"
          required
          maxLength={NAME_MAX}
          value={name}
          onInput={(e) => {
            setName(e.currentTarget.value);
            setErrors((x) => withoutField(x, 'name'));
          }}
          error={errors.fields.name}
        />
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
          autocomplete="new-password"
          required
          minLength={PASSWORD_MIN}
          maxLength={PASSWORD_MAX}
          value={password}
          onInput={(e) => {
            setPassword(e.currentTarget.value);
            setErrors((x) => withoutField(x, 'password'));
          }}
          error={errors.fields.password}
          hint={`At least ${PASSWORD_MIN} characters.`}
        />
        <Button type="submit" busy={busy} class="btn-block" data-testid="sign-up-submit">
          Create account
        </Button>
        <p class="auth-switch">
          Already have an account?{' '}
          <a href={`/sign-in${search.get('next') ? `?next=${encodeURIComponent(search.get('next')!)}` : ''}`}>Sign in</a>
        </p>
      </form>
    </section>
  );
}
