// A busy room's messages go out together: a quiet room's message at once, then whatever arrives within batchMs as one
// `messages` frame per reader (CHAT_BATCH_MS) — what lets one process carry thousands of readers at tens of messages
// a second.
import type { Server } from 'socket.io';
import type { ChatMessage } from './rules.ts';

export class Batches {
  /** Rooms that were sent a batch less than batchMs ago, with what waits for their next one. */
  private readonly waiting = new Map<string, { messages: ChatMessage[]; timer: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly io: Server,
    private readonly batchMs: number,
  ) {}

  /** Sends a message to a room now, or with the room's next batch if it was sent one less than batchMs ago. */
  deliver(room: string, message: ChatMessage) {
    const waiting = this.waiting.get(room);
    if (waiting) waiting.messages.push(message);
    else this.sendBatch(room, [message]);
  }

  /** Takes a message out of the room's next batch (a deleted message still waiting is not sent at all). */
  unsend(room: string, id: string) {
    const waiting = this.waiting.get(room);
    if (waiting) waiting.messages = waiting.messages.filter((m) => m.id !== id);
  }

  private sendBatch(room: string, messages: ChatMessage[]) {
    this.io.to(room).emit('messages', messages);
    const { batchMs } = this;
    if (batchMs === 0) return;
    const timer = setTimeout(() => {
      const next = this.waiting.get(room)!.messages;
      this.waiting.delete(room);
      if (next.length) this.sendBatch(room, next);
    }, batchMs);
    this.waiting.set(room, { messages: [], timer });
  }

  /** Sends what waits now and stops the timers. */
  close() {
    for (const [room, { messages, timer }] of this.waiting) {
      clearTimeout(timer);
      if (messages.length) this.io.to(room).emit('messages', messages);
    }
    this.waiting.clear();
  }
}
