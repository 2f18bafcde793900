// @db-matrix
// Chat over Socket.IO with real socket.io-client connections: anonymous users read, signed-in users send (identity
// from the session cookie), every acknowledged message is stored with its id, a joining client gets the history,
// bad input and floods get a clear refusal, and a cross-site page cannot use a visitor's cookie.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { io, type Socket } from 'socket.io-client';
import { MAX_MESSAGE_CHARS } from '../../api/chat.ts';
import { chatMessage, liveSession } from '../../shared/db/index.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';

type Ctx = { api: TestApi; owner: Client; viewer: Client; helper: Client; sockets: Socket[] };
const t = suite<Ctx>('chat');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Streamer');
  ctx.viewer = await ctx.api.client().signUp('Viewer');
  ctx.helper = await ctx.api.client().signUp('Helper');
  ctx.sockets = [];
  for (const slug of ['lobby', 'history', 'limits', 'flood', 'live-chat', 'moderated']) {
    assert.is((await ctx.owner.post('/api/channels', { slug, title: slug })).status, 201);
  }
});
t.after.each((ctx) => {
  for (const s of ctx.sockets.splice(0)) s.disconnect();
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

/** A connected socket.io-client, signed in as `as` (its session cookie) or anonymous. */
async function connect(ctx: Ctx, as?: Client, origin = ctx.api.base): Promise<Socket> {
  const cookie = as ? [...as.cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  const socket = io(ctx.api.base, { path: '/socket.io', transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { origin, ...(cookie ? { cookie } : {}) } });
  ctx.sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}

const call = (s: Socket, event: string, payload: unknown) => s.timeout(5000).emitWithAck(event, payload);
const nextEvent = <T>(s: Socket, event: string) =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within 5 s`)), 5000);
    s.once(event, (v: T) => {
      clearTimeout(timer);
      resolve(v);
    });
  });

t('a signed-in user sends; the message is stored, acknowledged with its id and delivered to everyone in the room', async (ctx) => {
  const reader = await connect(ctx); // anonymous
  const writer = await connect(ctx, ctx.viewer);
  const other = await connect(ctx, ctx.owner);
  for (const s of [reader, writer, other]) assert.equal((await call(s, 'join', { channel: 'lobby' })).ok, true);
  const seen = Promise.all([reader, other].map((s) => nextEvent<any>(s, 'message')));
  const ack = await call(writer, 'send', { channel: 'lobby', text: '  hello chat  ' });
  assert.is(ack.ok, true, JSON.stringify(ack));
  assert.is(ack.message.text, 'hello chat');
  assert.is(ack.message.author.name, 'Viewer');
  for (const m of await seen) assert.equal(m, ack.message);
  const [row] = await ctx.api.deps.database.db.select().from(chatMessage).where(eq(chatMessage.id, ack.message.id));
  assert.is(row?.body, 'hello chat');
  assert.is(row?.userId, ctx.viewer.user!.id);
  assert.is(row?.liveSessionId, null, 'sent while the channel was offline');
});

t('anonymous users read but cannot send; the refusal comes as an acknowledgement and a refused event', async (ctx) => {
  const anon = await connect(ctx);
  await call(anon, 'join', { channel: 'lobby' });
  const refusedEvent = nextEvent<any>(anon, 'refused');
  const ack = await call(anon, 'send', { channel: 'lobby', text: 'let me in' });
  assert.equal(ack, { ok: false, error: { code: 'unauthorized', message: 'Sign in to chat.' } });
  assert.is((await refusedEvent).code, 'unauthorized');
});

t('identity comes from the session cookie, never from the payload', async (ctx) => {
  const s = await connect(ctx, ctx.viewer);
  await call(s, 'join', { channel: 'lobby' });
  const ack = await call(s, 'send', { channel: 'lobby', text: 'who am I', author: { id: ctx.owner.user!.id, name: 'Streamer' }, userId: ctx.owner.user!.id });
  assert.is(ack.message.author.id, ctx.viewer.user!.id);
  assert.is(ack.message.author.name, 'Viewer');
});

t('a joining client receives the recent history, oldest first; HTML is stored and delivered as plain text', async (ctx) => {
  const s = await connect(ctx, ctx.owner);
  await call(s, 'join', { channel: 'history' });
  const xss = '<img src=x onerror="alert(1)"><script>alert(2)</script>';
  const sent = [];
  for (const text of ['first', 'second', xss]) sent.push((await call(s, 'send', { channel: 'history', text })).message);
  const late = await connect(ctx);
  const joined = await call(late, 'join', { channel: 'history' });
  assert.is(joined.channel, 'history');
  assert.equal(joined.history.map((m: any) => m.text), ['first', 'second', xss]);
  assert.equal(joined.history.map((m: any) => m.id), sent.map((m) => m.id));
  const [row] = await ctx.api.deps.database.db.select().from(chatMessage).where(eq(chatMessage.id, sent[2].id));
  assert.is(row?.body, xss, 'stored verbatim; escaping is the renderer’s job');
});

t('bad input gets a clear refusal and nothing is stored', async (ctx) => {
  const s = await connect(ctx, ctx.viewer);
  const before = (await ctx.api.deps.database.db.select().from(chatMessage)).length;
  assert.is((await call(s, 'join', { channel: 'no-such-channel' })).error.code, 'not-found');
  assert.is((await call(s, 'send', { channel: 'limits', text: 'not joined yet' })).error.code, 'not-joined');
  await call(s, 'join', { channel: 'limits' });
  const tooLong = await call(s, 'send', { channel: 'limits', text: 'x'.repeat(MAX_MESSAGE_CHARS + 1) });
  assert.is(tooLong.error.code, 'invalid');
  assert.match(tooLong.error.message, String(MAX_MESSAGE_CHARS));
  assert.is((await call(s, 'send', { channel: 'limits', text: '   ' })).error.code, 'invalid');
  assert.is((await call(s, 'send', { channel: 'limits', text: 42 })).error.code, 'invalid');
  assert.is((await call(s, 'send', 'just a string')).error.code, 'invalid');
  assert.is((await ctx.api.deps.database.db.select().from(chatMessage)).length, before, 'nothing stored');
  assert.is((await call(s, 'send', { channel: 'limits', text: 'é'.repeat(MAX_MESSAGE_CHARS) })).ok, true, 'the limit itself is fine');
  assert.ok(s.connected, 'the connection survives bad input');
});

t('a flood is rate-limited; every acknowledged message is stored, every refused one is not', async (ctx) => {
  const s = await connect(ctx, ctx.viewer);
  await call(s, 'join', { channel: 'flood' });
  const acks = await Promise.all(Array.from({ length: 12 }, (_, i) => call(s, 'send', { channel: 'flood', text: `spam ${i}` })));
  const ok = acks.filter((a) => a.ok);
  const limited = acks.filter((a) => !a.ok);
  assert.ok(ok.length >= 1 && ok.length <= 5, `${ok.length} accepted`);
  assert.ok(limited.length >= 7, `${limited.length} refused`);
  for (const a of limited) {
    assert.is(a.error.code, 'rate-limited');
    assert.ok(a.error.retryAfterMs > 0);
  }
  const { chatMessage: cm, channel } = await import('../../shared/db/index.ts');
  const [ch] = await ctx.api.deps.database.db.select().from(channel).where(eq(channel.slug, 'flood'));
  const rows = await ctx.api.deps.database.db.select().from(cm).where(eq(cm.channelId, ch!.id));
  assert.equal(rows.map((r) => r.id).sort(), ok.map((a) => a.message.id).sort());
});

t('messages sent while live carry the live session and their offset from its start (for VoD replay)', async (ctx) => {
  const { channel } = await import('../../shared/db/index.ts');
  const [ch] = await ctx.api.deps.database.db.select().from(channel).where(eq(channel.slug, 'live-chat'));
  const sessionId = crypto.randomUUID();
  await ctx.api.deps.database.db.insert(liveSession).values({ id: sessionId, channelId: ch!.id, source: 'whip', startedAt: new Date(Date.now() - 5000) });
  const s = await connect(ctx, ctx.owner);
  await call(s, 'join', { channel: 'live-chat' });
  const ack = await call(s, 'send', { channel: 'live-chat', text: 'we are live' });
  assert.ok(ack.message.offsetMs >= 5000 && ack.message.offsetMs < 15000, String(ack.message.offsetMs));
  const [row] = await ctx.api.deps.database.db.select().from(chatMessage).where(eq(chatMessage.id, ack.message.id));
  assert.is(row?.liveSessionId, sessionId);
});

t('moderation: viewers cannot moderate; the owner appoints a moderator, who deletes messages (gone on every client and from history), times out and bans', async (ctx) => {
  const { owner, helper } = ctx;
  const viewer = await ctx.api.client().signUp('Rude'); // a user of its own: the flood test used up Viewer's rate
  const ownerS = await connect(ctx, owner);
  const viewerS = await connect(ctx, viewer);
  const helperS = await connect(ctx, helper);
  const reader = await connect(ctx);
  for (const s of [ownerS, viewerS, helperS, reader]) await call(s, 'join', { channel: 'moderated' });
  const rude = (await call(viewerS, 'send', { channel: 'moderated', text: 'something rude' })).message;

  // a viewer (or an anonymous reader) cannot moderate
  assert.is((await call(helperS, 'delete', { channel: 'moderated', id: rude.id })).error.code, 'forbidden');
  assert.is((await call(reader, 'ban', { channel: 'moderated', userId: viewer.user!.id })).error.code, 'unauthorized');
  assert.is((await call(helperS, 'mod', { channel: 'moderated', userId: helper.user!.id })).error.code, 'forbidden', 'nobody appoints themselves');

  // the owner appoints Helper; every client hears it
  const heard = nextEvent<any>(reader, 'moderation');
  assert.is((await call(ownerS, 'mod', { channel: 'moderated', userId: helper.user!.id })).ok, true);
  assert.equal(await heard, { channel: 'moderated', action: 'mod', userId: helper.user!.id, until: null, by: owner.user!.id });

  // the moderator deletes the message: removed on every client and from the history
  const gone = Promise.all([reader, viewerS, ownerS].map((s) => nextEvent<any>(s, 'deleted')));
  assert.is((await call(helperS, 'delete', { channel: 'moderated', id: rude.id })).ok, true);
  for (const d of await gone) assert.equal(d, { channel: 'moderated', id: rude.id });
  const late = await connect(ctx);
  assert.not.ok((await call(late, 'join', { channel: 'moderated' })).history.some((m: any) => m.id === rude.id));
  assert.is((await call(helperS, 'delete', { channel: 'moderated', id: rude.id })).error.code, 'not-found', 'already deleted');

  // a timeout refuses the user's messages until it runs out
  assert.is((await call(helperS, 'timeout', { channel: 'moderated', userId: viewer.user!.id, seconds: 2 })).ok, true);
  const timedOut = await call(viewerS, 'send', { channel: 'moderated', text: 'am I muted?' });
  assert.is(timedOut.error.code, 'timed-out');
  assert.ok(timedOut.error.retryAfterMs > 0 && timedOut.error.retryAfterMs <= 2000);
  await new Promise((r) => setTimeout(r, timedOut.error.retryAfterMs + 100));
  const back = await call(viewerS, 'send', { channel: 'moderated', text: 'back again' });
  assert.is(back.ok, true, `the timeout ran out: ${JSON.stringify(back)}`);

  // a ban lasts until an unban
  assert.is((await call(helperS, 'ban', { channel: 'moderated', userId: viewer.user!.id, reason: 'rude' })).ok, true);
  assert.is((await call(viewerS, 'send', { channel: 'moderated', text: 'still here?' })).error.code, 'banned');
  assert.is((await call(helperS, 'unban', { channel: 'moderated', userId: viewer.user!.id })).ok, true);
  assert.is((await call(viewerS, 'send', { channel: 'moderated', text: 'thanks' })).ok, true);

  // a moderator cannot act against the owner, and loses the rights when removed
  assert.is((await call(helperS, 'ban', { channel: 'moderated', userId: owner.user!.id })).error.code, 'forbidden');
  assert.is((await call(helperS, 'timeout', { channel: 'moderated', userId: viewer.user!.id, seconds: 0 })).error.code, 'invalid');
  assert.is((await call(ownerS, 'unmod', { channel: 'moderated', userId: helper.user!.id })).ok, true);
  assert.is((await call(helperS, 'ban', { channel: 'moderated', userId: viewer.user!.id })).error.code, 'forbidden');
  assert.is((await call(viewerS, 'send', { channel: 'moderated', text: 'free' })).ok, true, 'the removed moderator banned nobody');
});

t("another site's page cannot open chat with a visitor's cookie", async (ctx) => {
  const err = await connect(ctx, ctx.viewer, 'https://evil.example').then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(err, 'the handshake is refused');
});

t.run();
