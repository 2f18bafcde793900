// Account settings: display name, password (the current one required), email verification, and deleting the account
// with its channels (said up front, confirmed with the password).
import { useEffect, useState } from 'preact/hooks';
import { api, type Channel, type User } from '../api.ts';
import { NAME_MAX } from '../../../shared/bounds.ts';
import { Button, Field, FormError } from '../components/form.tsx';
import { Loading } from '../components/status.tsx';
import { navigate } from '../router.ts';
import { forgetSession, patchSessionUser, useSession } from '../session.ts';
import { useTitle } from '../title.ts';
import { authHref, NEW_PASSWORD, newPasswordProblem, useSimpleForm } from './auth-common.ts';

/** A section's submit button and, once it went through, what happened (`<testid>-submit`, `<testid>-saved`). */
function SubmitRow(props: { label: string; busy: boolean; done: boolean; doneText: string; testid: string; variant?: 'primary' | 'secondary' }) {
  return (
    <div class="settings-actions">
      <Button type="submit" variant={props.variant ?? 'primary'} busy={props.busy} data-testid={`${props.testid}-submit`}>
        {props.label}
      </Button>
      {props.done && !props.busy && (
        <span class="settings-saved" role="status" data-testid={`${props.testid}-saved`}>
          {props.doneText}
        </span>
      )}
    </div>
  );
}

function NameForm({ user }: { user: User }) {
  const [name, setName] = useState(user.name);
  const { busy, done, errors, submit, bind } = useSimpleForm(
    () => (name.trim() ? {} : { name: 'Enter a display name.' }),
    async () => {
      await api.updateName(name.trim());
      patchSessionUser({ name: name.trim().replace(/\s+/g, ' ') });
    },
    ['name'],
  );
  return (
    <form class="panel settings-section" onSubmit={submit} noValidate data-testid="settings-name-form">
      <h2>Profile</h2>
      <p class="muted">
        Your display name is shown in chat and on <a href={`/u/${user.id}`}>your public profile</a>. Your email address is never shown.
      </p>
      <FormError message={errors.message} />
      <Field label="Display name" autocomplete="nickname" required maxLength={NAME_MAX} {...bind('name', name, setName)} />
      <SubmitRow label="Save name" busy={busy} done={done} doneText="Saved." testid="settings-name" />
    </form>
  );
}

function EmailSection({ user }: { user: User }) {
  const { busy, done, errors, submit } = useSimpleForm(() => ({}), () => api.sendVerificationEmail(user.email), []);
  return (
    <form class="panel settings-section" onSubmit={submit} noValidate data-testid="settings-email">
      <h2>Email</h2>
      <p>
        {user.email}{' '}
        {user.emailVerified ? (
          <span class="badge badge-verified" data-testid="email-verified">
            Verified
          </span>
        ) : (
          <span class="badge badge-unverified" data-testid="email-unverified">
            Not verified
          </span>
        )}
      </p>
      {!user.emailVerified && (
        <>
          <FormError message={errors.message} />
          <SubmitRow label="Send a new verification link" variant="secondary" busy={busy} done={done} doneText="Sent: check your inbox." testid="settings-resend" />
        </>
      )}
    </form>
  );
}

function PasswordForm() {
  const [password, setPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const { busy, done, errors, submit, bind } = useSimpleForm(
    () => {
      const fields: Record<string, string> = {};
      if (!password) fields.password = 'Enter your current password.';
      return { ...fields, newPassword: newPasswordProblem(newPassword) };
    },
    async () => {
      await api.changePassword(password, newPassword);
      setPassword('');
      setNewPassword('');
    },
    ['password', 'newPassword'],
  );
  return (
    <form class="panel settings-section" onSubmit={submit} noValidate data-testid="settings-password-form">
      <h2>Password</h2>
      <p class="muted">Changing it signs out your other sessions.</p>
      <FormError message={errors.message} />
      <Field label="Current password" type="password" autocomplete="current-password" required {...bind('password', password, setPassword)} />
      <Field label="New password" {...NEW_PASSWORD} {...bind('newPassword', newPassword, setNewPassword)} />
      <SubmitRow label="Change password" busy={busy} done={done} doneText="Password changed." testid="settings-password" />
    </form>
  );
}

function DeleteAccount({ user }: { user: User }) {
  const [channels, setChannels] = useState<Channel[] | null>(null);
  const [password, setPassword] = useState('');
  useEffect(() => {
    const ctl = new AbortController();
    api.profile(user.id, ctl.signal).then((p) => setChannels(p.channels), () => setChannels([]));
    return () => ctl.abort();
  }, [user.id]);
  const { busy, errors, submit, bind } = useSimpleForm(
    () => (password ? {} : { password: 'Enter your password to confirm.' }),
    async () => {
      await api.deleteAccount(password);
      forgetSession();
      navigate('/', { replace: true });
    },
    ['password'],
  );
  return (
    <form class="panel settings-section settings-danger" onSubmit={submit} noValidate data-testid="settings-delete-form">
      <h2>Delete account</h2>
      <p>This cannot be undone. Your account is deleted, you are signed out everywhere, and with it go:</p>
      {channels === null ? (
        <p class="muted">Looking up your channels…</p>
      ) : channels.length ? (
        <ul class="settings-doomed" data-bullets data-testid="settings-doomed-channels">
          {channels.map((c) => (
            <li key={c.id}>
              <strong>{c.title}</strong> <span class="muted">({c.slug})</span>: its stream keys, recordings, chat, followers and subscriptions
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">your follows and subscriptions (you own no channels).</p>
      )}
      <FormError message={errors.message} />
      <Field label="Your password, to confirm" type="password" autocomplete="current-password" required {...bind('password', password, setPassword)} />
      <Button type="submit" variant="danger" busy={busy} data-testid="settings-delete-submit">
        Delete my account{channels?.length ? ` and ${channels.length === 1 ? 'its channel' : `its ${channels.length} channels`}` : ''}
      </Button>
    </form>
  );
}

export function SettingsPage() {
  useTitle('Settings');
  const { status, user } = useSession();
  if (status === 'loading') return <Loading />;
  if (!user) {
    return (
      <section class="auth-page">
        <div class="panel auth-card">
          <h1>Settings</h1>
          <p>Sign in to change your account's settings.</p>
          <a class="btn btn-primary btn-block" href={authHref('/sign-in', '/settings')} data-testid="settings-sign-in">
            Sign in
          </a>
        </div>
      </section>
    );
  }
  return (
    <section class="settings-page" data-testid="settings-page">
      <h1>Settings</h1>
      <NameForm user={user} />
      <EmailSection user={user} />
      <PasswordForm />
      {user.role === 'admin' && (
        <div class="panel settings-section">
          <h2>Administration</h2>
          <p>
            <a href="/admin/outbox" data-testid="settings-outbox">
              Mail outbox
            </a>
            <span class="muted">: password resets and verification links, when no SMTP server is configured.</span>
          </p>
        </div>
      )}
      <DeleteAccount user={user} />
    </section>
  );
}
