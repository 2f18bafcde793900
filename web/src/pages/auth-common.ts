// Shared by the sign-in and sign-up pages: where to go afterwards, and the form's life — leave once signed in, check
// the fields before sending, show what the server refused next to the field it names.
import { useEffect, useState } from 'preact/hooks';
import { errorsFor, fieldBinder, focusFirstInvalid, type FormErrors } from '../components/form.tsx';
import { navigate, useLocation } from '../router.ts';
import { useSession } from '../session.ts';
import { useTitle } from '../title.ts';

/** The ?next= target if it is a safe in-app path, else home. */
export function nextPath(search: URLSearchParams): string {
  const next = search.get('next') ?? '';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

/**
 * An auth page's form: `check` returns the fields' problems (none: `send` runs), `shown` names the fields whose
 * server errors are shown beside them. A signed-in visitor (or one who just signed in) goes on to ?next=.
 */
export function useAuthForm(title: string, check: () => Record<string, string>, send: () => Promise<unknown>, shown: string[]) {
  useTitle(title);
  const { search } = useLocation();
  const session = useSession();
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FormErrors>({ fields: {}, message: null });

  useEffect(() => {
    if (session.user && !busy) navigate(nextPath(search), { replace: true });
  }, [session.user]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const fields = check();
    if (Object.keys(fields).length) {
      setErrors({ fields, message: null });
      return focusFirstInvalid(form);
    }
    setBusy(true);
    setErrors({ fields: {}, message: null });
    try {
      await send();
      navigate(nextPath(search), { replace: true });
    } catch (err) {
      setErrors(errorsFor(err, shown));
      focusFirstInvalid(form);
      setBusy(false);
    }
  };
  return { search, busy, errors, submit, bind: fieldBinder(errors, setErrors) };
}
