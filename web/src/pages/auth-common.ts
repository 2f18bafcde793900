// Shared by the sign-in and sign-up pages: where to go afterwards, and the form's life — leave once signed in, check
// the fields before sending, show what the server refused next to the field it names.
import { useEffect, useState } from 'preact/hooks';
import { PASSWORD_MAX, PASSWORD_MIN } from '../api.ts';
import { errorsFor, fieldBinder, focusFirstInvalid, type FormErrors } from '../components/form.tsx';
import { navigate, useLocation } from '../router.ts';
import { useSession } from '../session.ts';
import { useTitle } from '../title.ts';

// bounded like any input: a longer one is not a path this app has
const NEXT_MAX = 2000;

/**
 * The ?next= target if it is a path on this origin (no scheme, no `//host`, no backslash or control character a
 * browser would read as another host), else `fallback`. Only what the app itself links to passes.
 */
export function nextPath(search: URLSearchParams, fallback = '/'): string {
  const next = search.get('next') ?? '';
  if (!next.startsWith('/') || next.length > NEXT_MAX || /[\\\u0000-\u001f\u007f]/.test(next) || next.startsWith('//')) return fallback;
  const base = 'https://glint.invalid';
  const url = new URL(next, base);
  return url.origin === base ? url.pathname + url.search + url.hash : fallback;
}

/** A link to `page` (sign-in, sign-up) that comes back to `next` afterwards. */
export const authHref = (page: '/sign-in' | '/sign-up', next: string | null | undefined) =>
  next && next !== '/' ? `${page}?next=${encodeURIComponent(next)}` : page;

/**
 * An auth page's form: `check` returns the fields' problems (none: `send` runs), `shown` names the fields whose
 * server errors are shown beside them. A signed-in visitor (or one who just signed in) goes on to ?next=, else to
 * `fallback`.
 */
export function useAuthForm(title: string, check: () => Record<string, string>, send: () => Promise<unknown>, shown: string[], fallback = '/') {
  useTitle(title);
  const { search } = useLocation();
  const session = useSession();
  const form = useSimpleForm(check, async () => {
    await send();
    navigate(nextPath(search, fallback), { replace: true });
  }, shown);

  useEffect(() => {
    if (session.user && !form.busy) navigate(nextPath(search, fallback), { replace: true });
  }, [session.user]);
  return { search, busy: form.busy, errors: form.errors, submit: form.submit, bind: form.bind };
}

/** A new password's field attributes (sign-up, reset, settings): the same bounds the server holds it to. */
export const NEW_PASSWORD = {
  type: 'password',
  autocomplete: 'new-password',
  required: true,
  minLength: PASSWORD_MIN,
  maxLength: PASSWORD_MAX,
  hint: `At least ${PASSWORD_MIN} characters.`,
} as const;

/** What is wrong with a new password, if anything. */
export const newPasswordProblem = (password: string): string | undefined =>
  password.length < PASSWORD_MIN ? `Use at least ${PASSWORD_MIN} characters.` : password.length > PASSWORD_MAX ? `Use at most ${PASSWORD_MAX} characters.` : undefined;

/**
 * A form that stays on its page (password reset, settings): `check` the fields, then `send`; `done` once it went
 * through, errors beside the `shown` fields.
 */
export function useSimpleForm(check: () => { [field: string]: string | undefined }, send: () => Promise<unknown>, shown: string[]) {
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, message: null });
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const fields = Object.fromEntries(Object.entries(check()).filter((e): e is [string, string] => !!e[1]));
    if (Object.keys(fields).length) {
      setErrors({ fields, message: null });
      return focusFirstInvalid(form);
    }
    setBusy(true);
    setErrors({ fields: {}, message: null });
    try {
      await send();
      setDone(true);
    } catch (err) {
      setErrors(errorsFor(err, shown));
      focusFirstInvalid(form);
    } finally {
      setBusy(false);
    }
  };
  return { busy, done, errors, submit, bind: fieldBinder(errors, setErrors) };
}
