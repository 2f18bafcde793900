// Form building blocks: labelled fields with hints and inline errors, an error banner, buttons with a busy state.
import type { ButtonHTMLAttributes, ComponentChildren, InputHTMLAttributes, LooseInputHTMLAttributes, TextareaHTMLAttributes } from 'preact';
import { useId } from 'preact/hooks';
import { ApiError } from '../api.ts';

type Common = { label: string; name: string; error?: string | undefined; hint?: ComponentChildren; testid?: string };
type InputFieldProps = Common & { textarea?: false } & Omit<LooseInputHTMLAttributes<HTMLInputElement>, 'name' | 'label'>;
type TextareaFieldProps = Common & { textarea: true } & Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'name' | 'label'>;

/** A labelled input (or textarea) with an optional hint and an inline error tied to it for screen readers. */
export function Field(props: InputFieldProps | TextareaFieldProps) {
  const { label, name, error, hint, testid, textarea, ...rest } = props;
  const id = `f${useId()}`;
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const shared = {
    id,
    name,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
    'data-testid': testid ?? `input-${name}`,
  };
  return (
    <div class={`field${error ? ' has-error' : ''}`}>
      <label for={id}>{label}</label>
      {textarea ? (
        <textarea {...(rest as TextareaHTMLAttributes<HTMLTextAreaElement>)} {...shared} />
      ) : (
        // preact types <input> as a union keyed on `type`; the loose props are checked at the call sites.
        <input {...(rest as unknown as InputHTMLAttributes<HTMLInputElement>)} {...shared} />
      )}
      {hint && !error && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`} data-testid={`error-${name}`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** A form-level error message (role=alert so it is announced). */
export function FormError({ message, testid = 'form-error' }: { message: string | null | undefined; testid?: string }) {
  if (!message) return null;
  return (
    <p class="alert alert-error" role="alert" data-testid={testid}>
      {message}
    </p>
  );
}

export function Button({
  busy,
  children,
  variant = 'primary',
  class: cls,
  ...rest
}: { busy?: boolean; variant?: 'primary' | 'secondary' | 'danger' | 'danger-outline' | 'ghost' } & ButtonHTMLAttributes<HTMLButtonElement> & { children?: ComponentChildren }) {
  return (
    <button
      type="button"
      {...rest}
      class={`btn btn-${variant}${cls ? ` ${cls}` : ''}`}
      disabled={busy || Boolean(rest.disabled)}
      aria-busy={busy ? true : undefined}
    >
      {busy && <span class="spinner" aria-hidden="true" />}
      {children}
    </button>
  );
}

export type FormErrors = { fields: Record<string, string>; message: string | null };

/**
 * Splits an error into inline field messages (for the fields the form shows) and a banner message
 * (the error's own message, unless every problem is shown next to its field).
 */
export function errorsFor(err: unknown, shown: string[]): FormErrors {
  if (!(err instanceof ApiError)) return { fields: {}, message: err instanceof Error ? err.message : String(err) };
  const fields: Record<string, string> = {};
  let unshown = false;
  for (const [name, msg] of Object.entries(err.fields)) {
    if (shown.includes(name)) fields[name] = msg;
    else unshown = true;
  }
  const handled = Object.keys(fields).length > 0 && !unshown;
  // When every problem is shown next to its field there is no banner (better-auth's message would repeat it).
  return { fields, message: handled ? null : err.message };
}

/** After a failed submit: moves focus to the first invalid field once it has rendered. */
export function focusFirstInvalid(form: HTMLFormElement | null) {
  setTimeout(() => form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(), 0);
}

/** The same errors without the named field's message (call it when that field changes). */
export function withoutField(e: FormErrors, name: string): FormErrors {
  if (!e.fields[name]) return e;
  const { [name]: _gone, ...fields } = e.fields;
  return { fields, message: Object.keys(fields).length ? e.message : null };
}

/**
 * Binds a text field to its state and its inline error, which goes as soon as the user types in it:
 * `<Field label="Email" type="email" {...bind('email', email, setEmail)} />`.
 */
export function fieldBinder(errors: FormErrors, setErrors: (update: (e: FormErrors) => FormErrors) => void) {
  return (name: string, value: string, set: (value: string) => void) => ({
    name,
    value,
    error: errors.fields[name],
    onInput: (e: { currentTarget: { value: string } }) => {
      set(e.currentTarget.value);
      setErrors((x) => withoutField(x, name));
    },
  });
}
