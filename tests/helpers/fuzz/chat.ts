// Socket.IO chat fuzzer: every event api/chat/server.ts handles (and some it does not), with payloads of the wrong type,
// sized near and above maxHttpBufferSize, nested, binary, with missing, extra or non-function acknowledgements, and
// in floods, from a signed-in stranger and from an anonymous socket. The server must answer each acknowledged event
// (a refusal, or a join's/leave's/send's success) or drop the connection, and refused events must store nothing.
import { and, eq } from 'drizzle-orm';
import type { Socket } from 'socket.io-client';
import { channel, chatBan, chatMessage, chatModerator, chatSettings } from '../../../shared/db/index.ts';
import type { Client, TestApi } from '../api.ts';
import { chatSocket } from '../chat.ts';
import { deepJsonText, hostileString, hostileValue, preview, Rng } from './common.ts';

/** The events api/chat/server.ts listens to, and names it does not (which must be ignored). */
export const CHAT_EVENTS = ['join', 'leave', 'send', 'delete', 'timeout', 'ban', 'unban', 'mod', 'unmod', 'modes', 'bans', 'moderators', 'modByName'] as const;
const STRAY_EVENTS = ['messages', 'refused', 'moderation', 'notification', 'constructor', '__proto__', 'toString', 'hasOwnProperty', '', 'x'.repeat(300)];
/** Socket.IO's maxHttpBufferSize in api/chat/server.ts: a packet above it ends the connection. */
export const CHAT_BUFFER_BYTES = 16 * 1024;

/** Every chat row of a channel (messages, bans, moderators, modes) as JSON, leaving out the messages in `except`. */
export async function chatRows(api: TestApi, slug: string, except: Set<string> = new Set()): Promise<string> {
  const { db } = api.deps.database;
  const [ch] = await db.select({ id: channel.id }).from(channel).where(eq(channel.slug, slug));
  const messages = (await db.select().from(chatMessage).where(eq(chatMessage.channelId, ch!.id)).orderBy(chatMessage.id)).filter((m) => !except.has(m.id));
  const rows = {
    bans: await db.select().from(chatBan).where(eq(chatBan.channelId, ch!.id)).orderBy(chatBan.userId),
    moderators: await db.select().from(chatModerator).where(eq(chatModerator.channelId, ch!.id)).orderBy(chatModerator.userId),
    settings: await db.select().from(chatSettings).where(eq(chatSettings.channelId, ch!.id)),
  };
  return JSON.stringify({ ...rows, messages });
}

/** Ids of the messages `userId` has stored in a channel. */
export async function messagesBy(api: TestApi, slug: string, userId: string): Promise<string[]> {
  const { db } = api.deps.database;
  const [ch] = await db.select({ id: channel.id }).from(channel).where(eq(channel.slug, slug));
  return (await db.select({ id: chatMessage.id }).from(chatMessage).where(and(eq(chatMessage.channelId, ch!.id), eq(chatMessage.userId, userId)))).map((m) => m.id);
}

/** One hostile payload for an event: a wrong shape, the right shape with hostile fields, huge, nested or binary. */
export function chatPayload(rng: Rng, event: string, slug: string, ids: { messageId: string; userIds: string[] }): { args: unknown[]; what: string; raw?: string } {
  const channelValue = () => (rng.chance(0.6) ? slug : rng.chance(0.5) ? hostileString(rng, 128) : hostileValue(rng));
  const good: Record<string, unknown> = { channel: slug };
  if (event === 'send') good.text = 'hello';
  if (event === 'delete') good.id = ids.messageId;
  if (['timeout', 'ban', 'unban', 'mod', 'unmod'].includes(event)) good.userId = rng.pick(ids.userIds);
  if (event === 'timeout') good.seconds = 60;
  if (event === 'modes') good[rng.pick(['slowSeconds', 'emoteOnly'])] = rng.chance(0.5) ? 30 : true;
  if (event === 'modByName') good.name = rng.pick(['Owner', 'Stranger', 'nobody', '']);
  const r = rng.int(12);
  switch (r) {
    case 0:
      return { args: [hostileValue(rng)], what: 'not an object' };
    case 1:
    case 2: {
      const k = rng.pick([...Object.keys(good), 'text', 'seconds', 'reason', 'subscribersOnly', 'followersOnlyMinutes']);
      return { args: [{ ...good, channel: channelValue(), [k]: hostileValue(rng) }], what: `${k} hostile` };
    }
    case 3: {
      // near and above the packet cap: the server must drop the connection, not buffer it
      const size = rng.pick([CHAT_BUFFER_BYTES - 200, CHAT_BUFFER_BYTES - 40, CHAT_BUFFER_BYTES + 1, CHAT_BUFFER_BYTES * 4, 1024 * 1024]);
      return { args: [{ ...good, text: 'a'.repeat(size), reason: 'r' }], what: `~${size} bytes` };
    }
    case 4: {
      // written as a raw Socket.IO frame: the client's own encoder gives up long before the server's parser does
      const deep = deepJsonText(rng.pick([1000, 5000, 7000]), rng.chance(0.5) ? 'array' : 'object');
      const frames = [
        `2${JSON.stringify([event])}`.slice(0, -1) + `,${deep}]`,
        `2${JSON.stringify([event, good])}`.slice(0, -2),
        `51-${JSON.stringify([event, { _placeholder: true, num: rng.pick([0, 5, -1, 1e9]) }])}`,
        `5${rng.pick(['', '9999999999', 'x'])}-${JSON.stringify([event, { _placeholder: true, num: 0 }])}`,
        `2/nope,${JSON.stringify([event, good])}`,
        `2${rng.int(1e6)}${JSON.stringify([event, good])}`,
        `${rng.pick(['0', '1', '3', '4', '6', '9'])}${hostileString(rng, 256)}`,
      ];
      return { args: [], raw: rng.pick(frames), what: 'a raw frame' };
    }
    case 5:
      return { args: [{ ...good, text: Buffer.from(hostileString(rng)), channel: rng.chance(0.5) ? Buffer.from(slug) : slug }], what: 'binary fields' };
    case 6:
      return { args: [Buffer.alloc(rng.pick([0, 1, 1000, CHAT_BUFFER_BYTES - 100]), rng.int(256))], what: 'a binary attachment' };
    case 7:
      return { args: [JSON.parse('{"__proto__":{"channel":"x","role":"admin"},"constructor":{"prototype":{"level":3}}}'), 'extra', 42], what: 'prototype keys and extra arguments' };
    case 8:
      return { args: [], what: 'no payload' };
    case 9:
      return { args: [{ ...good, text: hostileString(rng, 600) }], what: 'hostile text' };
    case 10:
      return { args: [{ ...good, seconds: rng.pick([0, -1, 1e308, 2 ** 53, 1.5, 'NaN', null, 14 * 24 * 3600 + 1]) }], what: 'edge numbers' };
    default:
      return { args: [good], what: 'plausible' };
  }
}

/** unackedSends: `send`s emitted without an acknowledgement the server can call (one may be stored unseen). */
export type ChatFuzzResult = { cases: number; acked: number; refused: number; disconnects: number; failures: string[]; acceptedIds: Set<string>; unackedSends: number };

/**
 * Fuzzes chat from `as` (signed in, not a moderator of the channel) and an anonymous socket for `seconds`, in bursts
 * (floods) of up to 50 events without waiting. Collects the ids of messages the server accepted (a plain user may
 * chat), so the caller can check that nothing else was stored.
 */
export async function fuzzChat(api: TestApi, as: Client, slug: string, rng: Rng, seconds: number, ids: { messageId: string; userIds: string[] }): Promise<ChatFuzzResult> {
  const failures: string[] = [];
  const acceptedIds = new Set<string>();
  let cases = 0;
  let acked = 0;
  let refused = 0;
  let disconnects = 0;
  let unackedSends = 0;
  const deadline = Date.now() + seconds * 1000;
  const open = async (signedIn: boolean) => {
    const s = await chatSocket(api.base, signedIn ? as : undefined);
    s.on('disconnect', () => disconnects++);
    await s.timeout(5000).emitWithAck('join', { channel: slug }).catch(() => undefined);
    return s;
  };
  const sockets: Socket[] = [await open(true), await open(false)];
  const recent = new WeakMap<Socket, string[]>();
  try {
    while (Date.now() < deadline) {
      const i = rng.int(sockets.length);
      if (!sockets[i]!.connected) {
        sockets[i]!.disconnect();
        sockets[i] = await open(i === 0);
      }
      const socket = sockets[i]!;
      const burst = rng.chance(0.1) ? 20 + rng.int(30) : 1 + rng.int(5);
      const pending: Promise<void>[] = [];
      for (let n = 0; n < burst && socket.connected; n++) {
        const event = rng.chance(0.9) ? rng.pick(CHAT_EVENTS) : rng.pick(STRAY_EVENTS);
        const { args, what, raw } = chatPayload(rng, event, slug, ids);
        const ackKind = rng.int(4); // 0: none, 1: a function, 2: not a function, 3: a function after a non-function
        const where = `[seed ${rng.seed}] ${i === 0 ? 'stranger' : 'anonymous'} ${raw !== undefined ? `raw frame ${preview(raw, 200)}` : `emit(${JSON.stringify(event.slice(0, 40))}, ${preview(args, 200)})`} (${what}, ack ${['none', 'function', 'not a function', 'late function'][ackKind]})`;
        // what this connection was sent before, for a failure that only a sequence explains
        const history = (recent.get(socket) ?? []).slice(-6);
        recent.set(socket, [...history, where]);
        cases++;
        if (raw !== undefined) {
          // engine.io message ('4') carrying a Socket.IO packet of our own making
          (socket.io.engine as unknown as { write(data: string): void }).write(raw);
          // a '1' is the client leaving the namespace: the server rightly stops listening, the client does not know
          if (raw.startsWith('1')) socket.disconnect();
          continue;
        }
        // the server reads (payload, ack): with no payload or extra arguments the callback is not where it looks
        const handled = (CHAT_EVENTS as readonly string[]).includes(event) && args.length === 1;
        if (ackKind !== 1 || !handled) {
          // nothing will (or may) answer these: send them and move on
          if (event === 'send') unackedSends++;
          const tail = ackKind === 2 ? [rng.pick([null, 'ack', 42, {}])] : ackKind === 3 ? ['not-an-ack', () => undefined] : ackKind === 1 ? [() => undefined] : [];
          socket.emit(event, ...args, ...tail);
          continue;
        }
        pending.push(
          new Promise<void>((resolve) => {
            // an answer, or the connection ending (a packet over the cap), or — a failure — silence on a live one
            const timer = setTimeout(() => {
              if (socket.connected) failures.push(`no acknowledgement within 10 s on a live connection: ${where}\n      after: ${history.join('\n             ')}`);
              done();
            }, 10_000);
            const done = () => {
              clearTimeout(timer);
              socket.off('disconnect', done);
              resolve();
            };
            socket.once('disconnect', done);
            socket.emit(event, ...args, (reply: { ok?: boolean; message?: { id?: string }; error?: { code?: string } }) => {
              acked++;
              if (reply?.ok === false) refused++;
              else if (reply?.ok === true && reply.message?.id) acceptedIds.add(reply.message.id);
              else if (reply?.ok !== true) failures.push(`an acknowledgement that is neither a refusal nor a success: ${preview(reply)} for ${where}`);
              done();
            });
          }),
        );
      }
      await Promise.all(pending);
    }
  } finally {
    for (const s of sockets) s.disconnect();
  }
  return { cases, acked, refused, disconnects, failures, acceptedIds, unackedSends };
}

/** A fresh, well-behaved pair: `sender` sends in `slug` and an anonymous reader receives it. */
export async function chatStillWorks(api: TestApi, sender: Client, slug: string): Promise<{ ok: boolean; detail: string }> {
  const reader = await chatSocket(api.base);
  const writer = await chatSocket(api.base, sender);
  try {
    for (const [who, socket] of [['reader', reader], ['writer', writer]] as const) {
      let joined = await socket.timeout(5000).emitWithAck('join', { channel: slug });
      // the fuzzing sockets share this address's join budget (all of it is loopback here): wait the window out once
      if (joined?.error?.code === 'rate-limited') {
        await new Promise((r) => setTimeout(r, (joined.error.retryAfterMs ?? 5000) + 100));
        joined = await socket.timeout(5000).emitWithAck('join', { channel: slug });
      }
      if (joined?.ok !== true) return { ok: false, detail: `the ${who}'s join was refused: ${preview(joined)}` };
    }
    const text = `still here ${Date.now()}`;
    const got = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      reader.on('messages', (ms: { text: string }[]) => ms.some((m) => m.text === text) && (clearTimeout(timer), resolve(true)));
    });
    let ack = await writer.timeout(5000).emitWithAck('send', { channel: slug, text });
    // the fuzzing socket may have spent the address's budget (all of it is loopback here): wait the window out once
    if (ack?.error?.code === 'rate-limited') {
      await new Promise((r) => setTimeout(r, (ack.error.retryAfterMs ?? 5000) + 100));
      ack = await writer.timeout(5000).emitWithAck('send', { channel: slug, text });
    }
    const received = await got;
    return { ok: ack?.ok === true && received, detail: `ack ${preview(ack)}, received by a reader: ${received}` };
  } finally {
    reader.disconnect();
    writer.disconnect();
  }
}

/** A channel whose owner said something (a message to try deleting), and a signed-in stranger to fuzz as. */
export async function chatWorld(api: TestApi, slug = 'fz-chat'): Promise<{ owner: Client; stranger: Client; slug: string; messageId: string }> {
  await api.client().signUp('Chat Admin'); // the first account is the admin: not part of the game
  const owner = await api.client().signUp('Chat Owner');
  const stranger = await api.client().signUp('Chat Stranger');
  const created = await owner.post('/api/channels', { slug, title: 'Chat under fire' });
  if (created.status !== 201) throw new Error(`creating ${slug}: ${created.status} ${created.text}`);
  const s = await chatSocket(api.base, owner);
  try {
    await s.timeout(5000).emitWithAck('join', { channel: slug });
    const sent = await s.timeout(5000).emitWithAck('send', { channel: slug, text: 'the owner was here' });
    if (!sent.ok) throw new Error(`the owner's message was refused: ${JSON.stringify(sent)}`);
    return { owner, stranger, slug, messageId: sent.message.id };
  } finally {
    s.disconnect();
  }
}
