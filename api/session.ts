// Reading the signed-in user's session, for the API's requests, the SFU's WHEP admission and chat handshakes.
import { outsideEverything } from '../shared/host/context.ts';
import type { Auth } from './auth.ts';

/**
 * The session a request's cookie names, read by this instance's own better-auth. better-auth keeps the operation in
 * progress (its context, its database adapter) in AsyncLocalStorage; on Deno a chat handshake can run inside a
 * context an earlier request left (seen with two APIs in one process: the second one's sessions were looked up in the
 * first one's database). A session lookup is never part of another operation: it runs from the start's context.
 */
export function sessionOf(auth: Auth, headers: Headers) {
  return outsideEverything(() => auth.api.getSession({ headers }));
}
