// The signed-in user: loaded from /api/me at start, updated on sign-in, sign-up and sign-out.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type User } from './api.ts';

export type Session = { status: 'loading' | 'ready'; user: User | null };

let state: Session = { status: 'loading', user: null };
const listeners = new Set<(s: Session) => void>();

function set(next: Session) {
  state = next;
  for (const l of listeners) l(state);
}

export function getSession(): Session {
  return state;
}

/** Re-reads the current user (null means signed out). */
export async function refreshSession(): Promise<User | null> {
  try {
    const user = await api.me();
    set({ status: 'ready', user });
    return user;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) console.warn('could not load the session', err);
    set({ status: 'ready', user: null });
    return null;
  }
}

export async function signIn(email: string, password: string): Promise<User | null> {
  await api.signIn(email, password);
  return refreshSession();
}

export async function signUp(name: string, email: string, password: string): Promise<User | null> {
  await api.signUp(name, email, password);
  const user = await refreshSession();
  // REQUIRE_EMAIL_VERIFICATION: the account exists but no session until its address is verified
  if (!user) throw new Error('Account created. Open the link we have sent to your email address, then sign in.');
  return user;
}

/** The session's user with `patch` applied (after a settings change), without a round trip. */
export function patchSessionUser(patch: Partial<User>) {
  if (state.user) set({ ...state, user: { ...state.user, ...patch } });
}

/** Ends the session locally (after the account was deleted: the server already cleared the cookie). */
export function forgetSession() {
  set({ status: 'ready', user: null });
}

export async function signOut(): Promise<void> {
  try {
    await api.signOut();
  } finally {
    set({ status: 'ready', user: null });
  }
}

export function useSession(): Session {
  const [s, setS] = useState(state);
  useEffect(() => {
    listeners.add(setS);
    setS(state);
    return () => void listeners.delete(setS);
  }, []);
  return s;
}
