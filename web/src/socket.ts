// The page's one Socket.IO connection, shared by the chat panel and the notification bell: the server puts a signed-in
// socket in its user's room at the handshake (notifications) and in a channel's room on `join` (chat), so one
// connection carries both. Events and payloads are typed by shared/socket-events.ts, the contract the API uses too.
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../shared/socket-events.ts';

export type PageSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Open sockets by who they were opened for (a user id, '' signed out), with how many components hold each. */
const open = new Map<string, { socket: PageSocket; holders: number }>();

/**
 * The page's socket for this user (null: signed out), opened on first use; `release` when done with it (idempotent),
 * and the last release closes it. Who is on a socket is decided by the session cookie of its handshake, so after a
 * sign-in or sign-out the components ask again and get a new socket; the old one closes when they all let go.
 */
export function holdSocket(userId: string | null): { socket: PageSocket; release: () => void } {
  const key = userId ?? '';
  let entry = open.get(key);
  if (!entry) {
    entry = { socket: io({ path: '/socket.io', transports: ['websocket', 'polling'] }), holders: 0 };
    open.set(key, entry);
  }
  const held = entry;
  held.holders++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    if (--held.holders > 0) return;
    held.socket.disconnect();
    if (open.get(key) === held) open.delete(key);
  };
  return { socket: held.socket, release };
}
