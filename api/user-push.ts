// Pushes to a signed-in user's every open connection (every tab and device, on any API process): the notifications
// inbox, moderation that concerns them. Chat's Socket.IO server carries it — a signed-in socket joins its user's room
// at the handshake, and only the server puts it there — but what is pushed is not chat's business.
import type { Server } from 'socket.io';
import type { ServerToClientEvents } from '../shared/socket-events.ts';

/** The room of one user's connections. */
export const userRoom = (userId: string) => `user:${userId}`;

export class UserPush {
  constructor(private readonly io: Server<never, ServerToClientEvents>) {}

  /** Sends an event to every connection of each of these users (on any API process). */
  toUsers<E extends keyof ServerToClientEvents>(userIds: string[], event: E, payloadFor: (userId: string) => Parameters<ServerToClientEvents[E]>[0]) {
    for (const id of userIds) this.io.to(userRoom(id)).emit(event, ...([payloadFor(id)] as Parameters<ServerToClientEvents[E]>));
  }
}
