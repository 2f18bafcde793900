// Chat clients in tests: a real socket.io-client connection to an API, signed in with a test client's session cookie
// (or anonymous), sending the Origin a browser page of `origin` would.
import { io, type Socket } from 'socket.io-client';
import type { Client } from './api.ts';

export const cookieHeader = (c: Client) => [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

export async function chatSocket(base: string, as?: Client, opts: { origin?: string; transport?: 'websocket' | 'polling' } = {}): Promise<Socket> {
  const headers: Record<string, string> = { origin: opts.origin ?? base, ...(as ? { cookie: cookieHeader(as) } : {}) };
  const socket = io(base, { path: '/socket.io', transports: [opts.transport ?? 'websocket'], forceNew: true, reconnection: false, extraHeaders: headers });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
  } catch (err) {
    socket.disconnect();
    throw err;
  }
  return socket;
}
