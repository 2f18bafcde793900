// @db-matrix
// @runtime-matrix
// Chat over Socket.IO with real socket.io-client connections: anonymous users read, signed-in users send (identity
// from the session cookie), every acknowledged message is stored with its id, a joining client gets the history,
// bad input and floods get a clear refusal, and a cross-site page cannot use a visitor's cookie. Messages carry their
// sender's badges; emote-only mode; moderators list bans and moderators, the owner appoints by name.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import type { Socket } from 'socket.io-client';
import { MAX_MESSAGE_CHARS } from '../../api/chat/rules.ts';
import { chatMessage, follow, liveSession, subscription, user } from '../../shared/db/index.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { chatSocket } from '../helpers/chat.ts';
import { validImages } from '../helpers/fuzz/avatar.ts';
import { capturingLogger } from '../helpers/fuzz/common.ts';

type Ctx = { api: TestApi; owner: Client; viewer: Client; helper: Client; sockets: Socket[]; capture: ReturnType<typeof capturingLogger> };
const t = suite<Ctx>('chat');

t.before(async (ctx) => {
  // every test client connects from 127.0.0.1: a per-address budget of its own is tested below
  ctx.capture = capturingLogger('warn');
  ctx.api = await startTestApi({ CHAT_ADDRESS_MESSAGES: '1000', CHAT_BATCH_MS: '500' }, { log: ctx.capture.log });
  ctx.owner = await ctx.api.client().signUp('Streamer');
  ctx.viewer = await ctx.api.client().signUp('Viewer');
  ctx.helper = await ctx.api.client().signUp('Helper');
  ctx.sockets = [];
  for (const slug of ['lobby', 'burst', 'history', 'limits', 'flood', 'live-chat', 'moderated']) {
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
  const socket = await chatSocket(ctx.api.base, as, { origin });
  ctx.sockets.push(socket);
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
  const seen = Promise.all([reader, other].map((s) => nextEvent<any[]>(s, 'messages')));
  const ack = await call(writer, 'send', { channel: 'lobby', text: '  hello chat  ' });
  assert.is(ack.ok, true, JSON.stringify(ack));
  assert.is(ack.message.text, 'hello chat');
  assert.is(ack.message.author.name, 'Viewer');
  for (const batch of await seen) assert.equal(batch, [ack.message]);
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

t('a busy room gets its messages in batches: complete, in each sender’s order, fewer frames than messages; one deleted while it waits is never sent', async (ctx) => {
  const reader = await connect(ctx);
  // two fresh users, so the other tests' senders keep their rate-limit budgets
  const [a, b] = [await ctx.api.client().signUp('Burst A'), await ctx.api.client().signUp('Burst B')];
  const [one, two, owner] = [await connect(ctx, a), await connect(ctx, b), await connect(ctx, ctx.owner)];
  for (const s of [reader, one, two, owner]) await call(s, 'join', { channel: 'burst' });
  const batches: any[][] = [];
  const deleted: string[] = [];
  reader.on('messages', (b: any[]) => batches.push(b));
  reader.on('deleted', (d: { id: string }) => deleted.push(d.id));
  const send = async (s: Socket, text: string) => {
    const ack = await call(s, 'send', { channel: 'burst', text });
    assert.is(ack.ok, true, JSON.stringify(ack));
    return ack.message;
  };
  const first = await send(one, 'quiet room: at once');
  const doomed = await send(one, 'deleted before its batch');
  assert.is((await call(owner, 'delete', { channel: 'burst', id: doomed.id })).ok, true);
  const sequences = await Promise.all([
    (async () => [await send(two, 'h1'), await send(two, 'h2'), await send(two, 'h3'), await send(two, 'h4')])(),
    (async () => [await send(one, 'o1'), await send(one, 'o2')])(),
  ]);
  for (const started = Date.now(); batches.flat().length < 7 && Date.now() - started < 5000; ) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000)); // anything stray would come within two batch periods
  const got = batches.flat();
  assert.equal(batches[0], [first], 'the first message of a quiet room is sent alone, at once');
  assert.is(got.length, 7, got.map((m) => m.text).join(', '));
  assert.not.ok(got.some((m) => m.id === doomed.id), 'the deleted message was never sent');
  assert.equal(deleted, [doomed.id]);
  for (const seq of sequences) assert.equal(got.filter((m) => m.author.id === seq[0].author.id && m.id !== first.id).map((m) => m.id), seq.map((m: any) => m.id));
  assert.ok(batches.length < got.length, `${batches.length} frames for ${got.length} messages`);
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

t('text no database stores (NUL, lone surrogates) anywhere in a payload, or nesting 1000 deep, is refused as invalid; nothing is stored or logged as an error', async (ctx) => {
  const s = await connect(ctx, ctx.owner);
  const before = (await ctx.api.deps.database.db.select().from(chatMessage)).length;
  const errorsBefore = ctx.capture.errors().length;
  await call(s, 'join', { channel: 'limits' });
  for (const text of ['a\u0000b', 'x\ud800y', '奰\udcd2']) {
    const r = await call(s, 'send', { channel: 'limits', text });
    assert.is(r.ok, false, `${JSON.stringify(text)} was accepted: ${JSON.stringify(r)}`);
    assert.is(r.error.code, 'invalid');
    assert.match(r.error.message, /payload\.text (contains a NUL|contains invalid Unicode)/);
  }
  for (const event of ['join', 'ban', 'timeout', 'mod', 'delete', 'modes']) {
    const r = await call(s, event, { channel: 'a\u0000b', userId: ctx.viewer.user!.id, seconds: 60, id: '00000000-0000-0000-0000-000000000000', slowSeconds: 1 });
    assert.is(r.error?.code, 'invalid', `${event}: ${JSON.stringify(r)}`);
  }
  const deep = await call(s, 'send', { channel: 'limits', text: JSON.parse('['.repeat(1000) + ']'.repeat(1000)) });
  assert.is(deep.error.code, 'invalid');
  assert.match(deep.error.message, /nested/);
  assert.is((await ctx.api.deps.database.db.select().from(chatMessage)).length, before, 'nothing stored');
  assert.equal(ctx.capture.errors().slice(errorsBefore).map((l) => l.msg), [], 'no error-level log line');
  assert.is((await call(s, 'send', { channel: 'limits', text: 'still here 😀' })).ok, true, 'the connection still sends');
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

  // the owner appoints Helper; every client hears it, who did it only the channel's moderators (and the owner)
  const heard = nextEvent<any>(reader, 'moderation');
  const heardByOwner = nextEvent<any>(ownerS, 'moderation');
  assert.is((await call(ownerS, 'mod', { channel: 'moderated', userId: helper.user!.id })).ok, true);
  assert.equal(await heard, { channel: 'moderated', action: 'mod', userId: helper.user!.id, until: null });
  assert.equal(await heardByOwner, { channel: 'moderated', action: 'mod', userId: helper.user!.id, until: null, by: owner.user!.id });

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

t('chat modes: slow mode, minimum account age, followers-only and subscribers-only, set by the owner or moderators, enforced for everyone else', async (ctx) => {
  const host = await ctx.api.client().signUp('Host'); // an owner of its own: the other tests used up Streamer's rate
  assert.is((await host.post('/api/channels', { slug: 'modes', title: 'modes' })).status, 201);
  const ownerS = await connect(ctx, host);
  const slowpoke = await ctx.api.client().signUp('Slowpoke');
  const slowS = await connect(ctx, slowpoke);
  const joined = await call(slowS, 'join', { channel: 'modes' });
  assert.equal(joined.modes, { slowSeconds: 0, minAccountAgeMinutes: 0, followersOnlyMinutes: null, subscribersOnly: false, emoteOnly: false }, 'no mode on at first');
  await call(ownerS, 'join', { channel: 'modes' });
  assert.is((await call(slowS, 'modes', { channel: 'modes', slowSeconds: 60 })).error.code, 'forbidden', 'a viewer cannot set modes');
  assert.is((await call(ownerS, 'modes', { channel: 'modes', slowSeconds: -1 })).error.code, 'invalid');

  // slow mode, 2 s
  const announced = nextEvent<any>(slowS, 'modes');
  assert.equal((await call(ownerS, 'modes', { channel: 'modes', slowSeconds: 2 })).modes, { slowSeconds: 2, minAccountAgeMinutes: 0, followersOnlyMinutes: null, subscribersOnly: false, emoteOnly: false });
  assert.is((await announced).slowSeconds, 2, 'the room hears the mode change');
  assert.is((await call(slowS, 'send', { channel: 'modes', text: 'one' })).ok, true);
  const tooSoon = await call(slowS, 'send', { channel: 'modes', text: 'two' });
  assert.is(tooSoon.error.code, 'slow-mode');
  assert.ok(tooSoon.error.retryAfterMs > 0 && tooSoon.error.retryAfterMs <= 2000);
  for (const text of ['owner 1', 'owner 2']) {
    const r = await call(ownerS, 'send', { channel: 'modes', text });
    assert.is(r.ok, true, `the owner is exempt: ${JSON.stringify(r)}`);
  }
  await new Promise((r) => setTimeout(r, tooSoon.error.retryAfterMs + 100));
  assert.is((await call(slowS, 'send', { channel: 'modes', text: 'two, later' })).ok, true);

  // accounts younger than 10 minutes wait
  assert.is((await call(ownerS, 'modes', { channel: 'modes', slowSeconds: 0, minAccountAgeMinutes: 10 })).ok, true);
  const young = await connect(ctx, await ctx.api.client().signUp('Newcomer'));
  await call(young, 'join', { channel: 'modes' });
  const refused = await call(young, 'send', { channel: 'modes', text: 'hi all' });
  assert.is(refused.error.code, 'account-too-new');
  assert.ok(refused.error.retryAfterMs > 9 * 60_000);
  await ctx.api.deps.database.db.update(user).set({ createdAt: new Date(Date.now() - 24 * 3600_000) }).where(eq(user.id, slowpoke.user!.id));
  assert.is((await call(slowS, 'send', { channel: 'modes', text: 'I have been here a day' })).ok, true, 'an older account chats');
  assert.is((await call(ownerS, 'modes', { channel: 'modes', minAccountAgeMinutes: 0 })).ok, true);

  // followers-only: not following → refused; following for less than the minimum → refused with the wait; then in
  assert.is((await call(ownerS, 'modes', { channel: 'modes', followersOnlyMinutes: 30 })).modes.followersOnlyMinutes, 30);
  await new Promise((r) => setTimeout(r, 2100)); // slow mode's last wait
  const notFollowing = await call(slowS, 'send', { channel: 'modes', text: 'let me in' });
  assert.is(notFollowing.error.code, 'followers-only');
  assert.match(notFollowing.error.message, 'follow');
  assert.is((await slowpoke.put('/api/channels/modes/follow')).status, 200);
  const tooFresh = await call(slowS, 'send', { channel: 'modes', text: 'I just followed' });
  assert.is(tooFresh.error.code, 'followers-only');
  assert.ok(tooFresh.error.retryAfterMs > 29 * 60_000);
  await ctx.api.deps.database.db.update(follow).set({ createdAt: new Date(Date.now() - 3600_000) }).where(eq(follow.userId, slowpoke.user!.id));
  assert.is((await call(slowS, 'send', { channel: 'modes', text: 'following for an hour' })).ok, true);
  assert.is((await call(ownerS, 'send', { channel: 'modes', text: 'owners need not follow' })).ok, true);

  // subscribers-only: a follower without a subscription is refused; a granted subscription lets them in; expiry ends it
  assert.is((await call(ownerS, 'modes', { channel: 'modes', followersOnlyMinutes: null, subscribersOnly: true })).modes.subscribersOnly, true);
  const notSubscribed = await call(slowS, 'send', { channel: 'modes', text: 'still a fan' });
  assert.is(notSubscribed.error.code, 'subscribers-only');
  const tier = await host.post('/api/channels/modes/tiers', { name: 'Fan', priceCents: 499 });
  assert.is(tier.status, 201, tier.text);
  const grant = await host.post('/api/channels/modes/subscriptions', { userId: slowpoke.user!.id, tierId: tier.body.id, endsAt: new Date(Date.now() + 3600_000).toISOString() });
  assert.is(grant.status, 201, grant.text);
  assert.is((await call(slowS, 'send', { channel: 'modes', text: 'subscribed' })).ok, true);
  await ctx.api.deps.database.db.update(subscription).set({ endsAt: new Date(Date.now() - 1000) }).where(eq(subscription.id, grant.body.id));
  assert.is((await call(slowS, 'send', { channel: 'modes', text: 'expired' })).error.code, 'subscribers-only', 'an expired subscription does not count');
});

t('every message carries its sender’s badges (owner, moderator, subscriber), live and in the history a join gets', async (ctx) => {
  const host = await ctx.api.client().signUp('Badger');
  assert.is((await host.post('/api/channels', { slug: 'badges-own', title: 'Badges' })).status, 201);
  const mod = await ctx.api.client().signUp('BadgeMod');
  const fan = await ctx.api.client().signUp('BadgeFan');
  const plain = await ctx.api.client().signUp('BadgePlain');
  const [hostS, modS, fanS, plainS] = (await Promise.all([host, mod, fan, plain].map((c) => connect(ctx, c)))) as [Socket, Socket, Socket, Socket];
  for (const s of [hostS, modS, fanS, plainS]) await call(s, 'join', { channel: 'badges-own' });
  assert.is((await call(hostS, 'mod', { channel: 'badges-own', userId: mod.user!.id })).ok, true);
  const tier = await host.post('/api/channels/badges-own/tiers', { name: 'Fan', priceCents: 100 });
  assert.is((await host.post('/api/channels/badges-own/subscriptions', { userId: fan.user!.id, tierId: tier.body.id })).status, 201);
  const expected: [Socket, string, string[]][] = [
    [hostS, 'from the owner', ['owner']],
    [modS, 'from a moderator', ['moderator']],
    [fanS, 'from a subscriber', ['subscriber']],
    [plainS, 'from a viewer', []],
  ];
  for (const [s, text, badges] of expected) {
    const ack = await call(s, 'send', { channel: 'badges-own', text });
    assert.equal(ack.message.author.badges, badges, text);
  }
  const history = (await call(await connect(ctx), 'join', { channel: 'badges-own' })).history;
  for (const [, text, badges] of expected) assert.equal(history.find((m: any) => m.text === text)?.author.badges, badges, `${text}, in the history`);
  // removed as moderator: the next messages carry no badge
  assert.is((await call(hostS, 'unmod', { channel: 'badges-own', userId: mod.user!.id })).ok, true);
  assert.equal((await call(modS, 'send', { channel: 'badges-own', text: 'a viewer again' })).message.author.badges, []);
});

t('emote-only mode refuses plain text with a clear reason; built-in and channel emotes pass; moderators are exempt', async (ctx) => {
  const host = await ctx.api.client().signUp('EmoteHost');
  assert.is((await host.post('/api/channels', { slug: 'emote-mode', title: 'Emotes' })).status, 201);
  const png = validImages()['image/png'];
  assert.is((await host.put('/api/channels/emote-mode/emotes/hostHype', { body: new Uint8Array(png), headers: { 'content-type': 'image/png' } })).status, 201);
  const viewer = await ctx.api.client().signUp('EmoteFan');
  const [hostS, viewerS] = await Promise.all([connect(ctx, host), connect(ctx, viewer)]);
  const joined = await call(viewerS, 'join', { channel: 'emote-mode' });
  assert.equal(joined.emotes.map((e: any) => e.code), ['hostHype'], 'a join lists the channel’s emotes');
  await call(hostS, 'join', { channel: 'emote-mode' });
  assert.is((await call(viewerS, 'modes', { channel: 'emote-mode', emoteOnly: true })).error.code, 'forbidden');
  const announced = nextEvent<any>(viewerS, 'modes');
  assert.is((await call(hostS, 'modes', { channel: 'emote-mode', emoteOnly: true })).modes.emoteOnly, true);
  assert.is((await announced).emoteOnly, true, 'the room hears it');
  for (const text of ['hello', 'glintHi hello', 'glinthi']) {
    const refused = await call(viewerS, 'send', { channel: 'emote-mode', text });
    assert.is(refused.error?.code, 'emote-only', text);
    assert.match(refused.error.message, 'emote-only mode');
  }
  for (const text of ['glintHi', 'glintGG  glintHeart', 'hostHype glintLol']) assert.is((await call(viewerS, 'send', { channel: 'emote-mode', text })).ok, true, text);
  assert.is((await call(hostS, 'send', { channel: 'emote-mode', text: 'the owner may say words' })).ok, true);
  assert.is((await call(hostS, 'modes', { channel: 'emote-mode', emoteOnly: false })).ok, true);
  assert.is((await call(viewerS, 'send', { channel: 'emote-mode', text: 'words again' })).ok, true);
});

t('moderators list bans (who, by whom, until, reason) and moderators; unban (the undo) lets the user post; the owner appoints by name', async (ctx) => {
  const host = await ctx.api.client().signUp('ModPageHost');
  assert.is((await host.post('/api/channels', { slug: 'mod-list', title: 'Mods' })).status, 201);
  const mod = await ctx.api.client().signUp('ModPageHelper');
  const troll = await ctx.api.client().signUp('ModPageTroll');
  const spammer = await ctx.api.client().signUp('ModPageSpam');
  const [hostS, trollS, spamS] = (await Promise.all([host, troll, spammer].map((c) => connect(ctx, c)))) as [Socket, Socket, Socket];
  for (const s of [hostS, trollS, spamS]) await call(s, 'join', { channel: 'mod-list' });
  assert.is((await call(trollS, 'bans', { channel: 'mod-list' })).error.code, 'forbidden', 'a viewer sees no banned list');
  assert.is((await call(await connect(ctx), 'moderators', { channel: 'mod-list' })).error.code, 'unauthorized');

  // appointed by name; an unknown name is refused with the name
  assert.is((await call(hostS, 'modByName', { channel: 'mod-list', name: 'Nobody At All' })).error.message, 'No user is named "Nobody At All".');
  const appointed = await call(hostS, 'modByName', { channel: 'mod-list', name: 'ModPageHelper' });
  assert.is(appointed.ok, true, JSON.stringify(appointed));
  assert.equal(appointed.user, { id: mod.user!.id, name: 'ModPageHelper' });
  const modS = await connect(ctx, mod);
  await call(modS, 'join', { channel: 'mod-list' });
  assert.equal((await call(modS, 'moderators', { channel: 'mod-list' })).moderators, [{ id: mod.user!.id, name: 'ModPageHelper' }]);
  assert.is((await call(modS, 'modByName', { channel: 'mod-list', name: 'ModPageTroll' })).error.code, 'forbidden', 'only the owner appoints');

  // a timeout and a ban, listed with who did it
  assert.is((await call(modS, 'timeout', { channel: 'mod-list', userId: troll.user!.id, seconds: 600, reason: 'calm down' })).ok, true);
  assert.is((await call(hostS, 'ban', { channel: 'mod-list', userId: spammer.user!.id })).ok, true);
  const { bans } = await call(modS, 'bans', { channel: 'mod-list' });
  assert.equal(bans.map((b: any) => [b.user.name, b.by?.name, b.until === null, b.reason]), [
    ['ModPageSpam', 'ModPageHost', true, ''],
    ['ModPageTroll', 'ModPageHelper', false, 'calm down'],
  ]);
  const until = Date.parse(bans[1].until);
  assert.ok(until > Date.now() + 590_000 && until <= Date.now() + 600_000, bans[1].until);
  assert.is((await call(trollS, 'send', { channel: 'mod-list', text: 'muted?' })).error.code, 'timed-out');
  // the undo of a timeout is an unban: the user posts again and leaves the list
  assert.is((await call(modS, 'unban', { channel: 'mod-list', userId: troll.user!.id })).ok, true);
  assert.is((await call(trollS, 'send', { channel: 'mod-list', text: 'back' })).ok, true);
  assert.equal((await call(hostS, 'bans', { channel: 'mod-list' })).bans.map((b: any) => b.user.name), ['ModPageSpam']);
  // removed by the owner: no longer a moderator, no longer listed
  assert.is((await call(hostS, 'unmod', { channel: 'mod-list', userId: mod.user!.id })).ok, true);
  assert.equal((await call(hostS, 'moderators', { channel: 'mod-list' })).moderators, []);
  assert.is((await call(modS, 'bans', { channel: 'mod-list' })).error.code, 'forbidden');
});

t('users behind one address share its budget (CHAT_ADDRESS_MESSAGES)', async (ctx) => {
  const small = await startTestApi({ CHAT_USER_MESSAGES: '5', CHAT_ADDRESS_MESSAGES: '6' });
  try {
    const owner = await small.client().signUp('One');
    const other = await small.client().signUp('Two');
    assert.is((await owner.post('/api/channels', { slug: 'nat', title: 'NAT' })).status, 201);
    const sockets = [];
    for (const c of [owner, other]) {
      const s = await chatSocket(small.base, c);
      ctx.sockets.push(s);
      await call(s, 'join', { channel: 'nat' });
      sockets.push(s);
    }
    for (let i = 0; i < 5; i++) assert.is((await call(sockets[0]!, 'send', { channel: 'nat', text: `one ${i}` })).ok, true);
    assert.is((await call(sockets[1]!, 'send', { channel: 'nat', text: 'two 0' })).ok, true, 'the sixth from the address');
    const refused = await call(sockets[1]!, 'send', { channel: 'nat', text: 'two 1' });
    assert.is(refused.error?.code, 'rate-limited', 'the address is out of budget though Two sent one message');
  } finally {
    for (const s of ctx.sockets.splice(0)) s.disconnect();
    await small.stop();
  }
});

t("another site's page cannot open chat with a visitor's cookie", async (ctx) => {
  const err = await connect(ctx, ctx.viewer, 'https://evil.example').then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(err, 'the handshake is refused');
});

t.run();
