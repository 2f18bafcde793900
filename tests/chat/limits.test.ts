// @runtime-matrix
// Chat against hostile clients: every per-address rule counts the client's address (X-Forwarded-For believed only from
// TRUSTED_PROXIES, as behind Caddy), joins are budgeted per socket and per address before any query, a socket is in a
// bounded number of rooms, connections are capped per address and in total in the handshake, a connection sending
// too much (any event, either transport, binary) is closed, every event's payload is validated, and who moderated is
// told to moderators only. Queries are counted on the API's own database handle.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { io, type Socket } from 'socket.io-client';
import { MAX_PACKET_BYTES, MAX_ROOMS_PER_SOCKET, SOCKET_JOINS } from '../../api/chat/server.ts';

/** CHAT_SOCKET_PACKETS_PER_SECOND's default, which these tests run with */
const SOCKET_PACKETS_PER_SECOND = 40;
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { cookieHeader } from '../helpers/chat.ts';

const t = suite<{ opened: Socket[]; apis: TestApi[] }>('chat limits');
t.before((ctx) => {
  ctx.opened = [];
  ctx.apis = [];
});
t.after.each((ctx) => {
  for (const s of ctx.opened.splice(0)) s.disconnect();
});
t.after(async (ctx) => {
  for (const api of ctx.apis) await api.stop();
});

const call = (s: Socket, event: string, payload?: unknown) => s.timeout(5000).emitWithAck(event, payload);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A socket.io-client connection as a browser behind a proxy would make it: optionally signed in, with X-Forwarded-For. */
function open(ctx: { opened: Socket[] }, api: TestApi, opts: { as?: Client; forwardedFor?: string; transport?: 'websocket' | 'polling' } = {}): Promise<Socket> {
  const headers: Record<string, string> = { origin: api.base, ...(opts.as ? { cookie: cookieHeader(opts.as) } : {}), ...(opts.forwardedFor ? { 'x-forwarded-for': opts.forwardedFor } : {}) };
  const socket = io(api.base, { path: '/socket.io', transports: [opts.transport ?? 'websocket'], forceNew: true, reconnection: false, extraHeaders: headers });
  ctx.opened.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.disconnect();
      reject(err);
    });
  });
}

/** An API for one test's settings; the tests that need none share one. */
let plain: Promise<TestApi> | undefined;
async function api(ctx: { apis: TestApi[] }, env: Record<string, string>) {
  if (!Object.keys(env).length) {
    plain ??= startTestApi().then((a) => (ctx.apis.push(a), a));
    return plain;
  }
  const a = await startTestApi(env);
  ctx.apis.push(a);
  return a;
}

/** Counts the queries the API's chat makes from now on (selects, inserts, updates, deletes on its database handle). */
function countQueries(a: TestApi) {
  const db = a.deps.database.db as unknown as Record<string, (...args: unknown[]) => unknown>;
  let n = 0;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  for (const m of ['select', 'insert', 'update', 'delete']) {
    const orig = db[m]!;
    originals.set(m, orig);
    db[m] = (...args: unknown[]) => {
      n++;
      return orig.apply(db, args);
    };
  }
  return {
    get count() {
      return n;
    },
    stop: () => originals.forEach((fn, m) => (db[m] = fn)),
  };
}

t('behind a trusted proxy (TRUSTED_PROXIES=loopback) the per-address message budget is the forwarded client’s', async (ctx) => {
  const a = await api(ctx, { TRUSTED_PROXIES: 'loopback', CHAT_ADDRESS_MESSAGES: '2', CHAT_USER_MESSAGES: '10' });
  const owner = await a.client().signUp('Proxy Owner');
  assert.is((await owner.post('/api/channels', { slug: 'behind-caddy', title: 'Behind Caddy' })).status, 201);
  const [one, two, three] = [await a.client().signUp('One'), await a.client().signUp('Two'), await a.client().signUp('Three')];
  const s1 = await open(ctx, a, { as: one, forwardedFor: '203.0.113.7' });
  const s2 = await open(ctx, a, { as: two, forwardedFor: '203.0.113.7' });
  const s3 = await open(ctx, a, { as: three, forwardedFor: '198.51.100.9' });
  for (const s of [s1, s2, s3]) assert.is((await call(s, 'join', { channel: 'behind-caddy' })).ok, true);
  for (let i = 0; i < 2; i++) assert.is((await call(s1, 'send', { channel: 'behind-caddy', text: `one ${i}` })).ok, true);
  assert.is((await call(s2, 'send', { channel: 'behind-caddy', text: 'two' })).error?.code, 'rate-limited', 'the same client address shares one budget');
  assert.is((await call(s3, 'send', { channel: 'behind-caddy', text: 'three' })).ok, true, 'another client behind the same proxy has its own');
});

t('without TRUSTED_PROXIES a forged X-Forwarded-For is ignored: the connection’s own address is counted', async (ctx) => {
  const a = await api(ctx, { CHAT_ADDRESS_MESSAGES: '2', CHAT_USER_MESSAGES: '10' });
  const owner = await a.client().signUp('Direct Owner');
  assert.is((await owner.post('/api/channels', { slug: 'direct', title: 'Direct' })).status, 201);
  const [one, two] = [await a.client().signUp('Forger One'), await a.client().signUp('Forger Two')];
  const s1 = await open(ctx, a, { as: one, forwardedFor: '203.0.113.7' });
  const s2 = await open(ctx, a, { as: two, forwardedFor: '198.51.100.9' });
  for (const s of [s1, s2]) await call(s, 'join', { channel: 'direct' });
  for (let i = 0; i < 2; i++) assert.is((await call(s1, 'send', { channel: 'direct', text: `one ${i}` })).ok, true);
  assert.is((await call(s2, 'send', { channel: 'direct', text: 'two' })).error?.code, 'rate-limited', 'both are 127.0.0.1 whatever they claim');
});

t('a flood of joins is refused by its budgets before any query; a crowd joining one channel loads its view once', async (ctx) => {
  const a = await api(ctx, { CHAT_ADDRESS_JOINS: '1000' });
  const owner = await a.client().signUp('Join Owner');
  assert.is((await owner.post('/api/channels', { slug: 'crowded', title: 'Crowded' })).status, 201);
  const s = await open(ctx, a);
  const queries = countQueries(a);
  try {
    const acks = [];
    for (let i = 0; i < SOCKET_JOINS + 10; i++) {
      acks.push(await call(s, 'join', { channel: i % 2 ? 'crowded' : `nope-${i}` }));
      await sleep(30); // under the per-second packet budget
    }
    const refused = acks.filter((r) => r.error?.code === 'rate-limited');
    assert.is(refused.length, 10, `${refused.length} refused`);
    assert.ok(refused.every((r) => r.error.retryAfterMs > 0));
    // 10 unknown slugs (one lookup each) and one known channel (its channel and modes, its emotes, then its history), cached
    assert.ok(queries.count <= 10 + 3, `${queries.count} queries for ${acks.length} joins`);
    const before = queries.count;
    for (let i = 0; i < 10; i++) {
      assert.is((await call(s, 'join', { channel: 'crowded' })).error?.code, 'rate-limited');
      await sleep(30);
    }
    assert.is(queries.count, before, 'refused joins cost no query');
  } finally {
    queries.stop();
  }
  // another socket from the same address has a budget of its own (the address's is larger)
  const crowd = await Promise.all(Array.from({ length: 8 }, () => open(ctx, a)));
  const q = countQueries(a);
  try {
    const joined = await Promise.all(crowd.map((c) => call(c, 'join', { channel: 'crowded' })));
    assert.ok(joined.every((j) => j.ok));
    assert.ok(q.count <= 3, `${q.count} queries for 8 joins of one channel`); // its view once: channel and modes, emotes, history
  } finally {
    q.stop();
  }
});

t('CHAT_ADDRESS_JOINS bounds the joins of every socket of one address together', async (ctx) => {
  const a = await api(ctx, { CHAT_ADDRESS_JOINS: '5' });
  const owner = await a.client().signUp('Address Owner');
  assert.is((await owner.post('/api/channels', { slug: 'shared-budget', title: 'x' })).status, 201);
  const sockets = await Promise.all(Array.from({ length: 3 }, () => open(ctx, a)));
  const acks = await Promise.all(sockets.flatMap((s) => [1, 2, 3].map(() => call(s, 'join', { channel: 'shared-budget' }))));
  assert.is(acks.filter((r) => r.ok).length, 5);
  assert.is(acks.filter((r) => r.error?.code === 'rate-limited').length, 4);
});

t(`a socket is in at most ${MAX_ROOMS_PER_SOCKET} channels; leaving one makes room`, async (ctx) => {
  const a = await api(ctx, {});
  const owner = await a.client().signUp('Rooms Owner');
  for (let i = 0; i <= MAX_ROOMS_PER_SOCKET; i++) assert.is((await owner.post('/api/channels', { slug: `room-${i}`, title: `Room ${i}` })).status, 201);
  const s = await open(ctx, a);
  for (let i = 0; i < MAX_ROOMS_PER_SOCKET; i++) assert.is((await call(s, 'join', { channel: `room-${i}` })).ok, true);
  const over = await call(s, 'join', { channel: `room-${MAX_ROOMS_PER_SOCKET}` });
  assert.is(over.error?.code, 'too-many-rooms');
  assert.is((await call(s, 'join', { channel: 'room-0' })).ok, true, 'rejoining one it is in is fine');
  await call(s, 'leave', { channel: 'room-0' });
  assert.is((await call(s, 'join', { channel: `room-${MAX_ROOMS_PER_SOCKET}` })).ok, true);
});

t('connections are capped per client address and in total, in the handshake; a closed one frees its place', async (ctx) => {
  const a = await api(ctx, { TRUSTED_PROXIES: 'loopback', CHAT_CONNECTIONS_PER_ADDRESS: '3', CHAT_CONNECTIONS_TOTAL: '5' });
  const mine = await Promise.all([1, 2, 3].map(() => open(ctx, a, { forwardedFor: '203.0.113.7' })));
  const refused = await open(ctx, a, { forwardedFor: '203.0.113.7' }).then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(refused, 'the fourth from one address is refused');
  const polling = await open(ctx, a, { forwardedFor: '203.0.113.7', transport: 'polling' }).then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(polling, 'over the polling transport too');
  await open(ctx, a, { forwardedFor: '198.51.100.9' });
  await open(ctx, a, { forwardedFor: '198.51.100.10' });
  assert.ok(await open(ctx, a, { forwardedFor: '198.51.100.11' }).then(() => false, () => true), 'the total is reached');
  assert.is(a.chat.connections.total, 5);
  mine[0]!.disconnect();
  for (const started = Date.now(); a.chat.connections.total > 4 && Date.now() - started < 3000; ) await sleep(20);
  await open(ctx, a, { forwardedFor: '203.0.113.7' });
});

t('a connection that sends more than its budget per second (any event) is closed; another from the same address is not', async (ctx) => {
  const a = await api(ctx, {});
  const flooder = await open(ctx, a);
  const bystander = await open(ctx, a);
  const closed = new Promise<string>((resolve) => flooder.once('disconnect', (reason) => resolve(reason)));
  for (let i = 0; i < SOCKET_PACKETS_PER_SECOND * 3; i++) flooder.emit('leave', { channel: 'anything' });
  assert.is(await Promise.race([closed, sleep(5000).then(() => 'still open')]), 'transport close');
  assert.ok(bystander.connected);
  assert.is((await call(bystander, 'leave', { channel: 'anything' })).ok, true);
});

t('binary payloads close the connection (chat has no binary events, attachments are never buffered)', async (ctx) => {
  const a = await api(ctx, {});
  const s = await open(ctx, a);
  const closed = new Promise<string>((resolve) => s.once('disconnect', (reason) => resolve(reason)));
  s.emit('send', { channel: 'x', text: Buffer.alloc(10) });
  assert.is(await Promise.race([closed, sleep(5000).then(() => 'still open')]), 'transport close');
});

t(`over polling, a POST larger than ${MAX_PACKET_BYTES} bytes is 413 and a burst of small packets in one POST closes the session`, async (ctx) => {
  const a = await api(ctx, {});
  const handshake = async () => {
    const r = await fetch(`${a.base}/socket.io/?EIO=4&transport=polling`);
    const sid = JSON.parse((await r.text()).slice(1)).sid as string;
    const url = `${a.base}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    assert.is((await fetch(url, { method: 'POST', body: '40' })).status, 200); // connect to the main namespace
    return url;
  };
  const big = await handshake();
  const tooLarge = await fetch(big, { method: 'POST', body: '42' + JSON.stringify(['send', { channel: 'x', text: 'y'.repeat(MAX_PACKET_BYTES) }]) });
  assert.is(tooLarge.status, 413);
  const burst = await handshake();
  const packets = Array.from({ length: SOCKET_PACKETS_PER_SECOND * 2 }, () => '42' + JSON.stringify(['leave', { channel: 'x' }])).join('\x1e');
  assert.is((await fetch(burst, { method: 'POST', body: packets })).status, 200);
  // the session is closed: its next poll gets the close packet (1), and after that it is unknown (400)
  // (the first poll may still carry the namespace's connect packet)
  let polled = '';
  // at once: a session left open would hold a poll until its next ping (25 s)
  for (let i = 0; i < 3 && !/(^|\x1e)1$/.test(polled); i++) polled = await (await fetch(burst, { signal: AbortSignal.timeout(5000) })).text();
  assert.match(polled, /(^|\x1e)1$/);
  const gone = await fetch(burst);
  await gone.text();
  assert.is(gone.status, 400, 'the closed session is unknown');
});

t('every event validates its payload: bad ones are refused as invalid, with or without an acknowledgement, and the socket lives on', async (ctx) => {
  const a = await api(ctx, {});
  const user = await a.client().signUp('Fuzzy');
  const s = await open(ctx, a, { as: user });
  const events = ['join', 'leave', 'send', 'modes', 'delete', 'timeout', 'ban', 'unban', 'mod', 'unmod'];
  const bad: unknown[] = [undefined, null, 42, 'text', [], { channel: 123 }, { channel: 'x'.repeat(100) }, { channel: ['a'] }, { __proto__: { channel: 'x' } }, { channel: '' }];
  let refused = 0;
  s.on('refused', () => refused++);
  for (const event of events) {
    for (const payload of bad) {
      const r = await call(s, event, payload);
      await sleep(30); // under the per-second packet budget
      assert.is(r.ok, false, `${event} ${JSON.stringify(payload)}`);
      assert.ok(['invalid', 'unauthorized', 'forbidden', 'not-found', 'rate-limited', 'not-joined'].includes(r.error.code), `${event}: ${r.error.code}`);
    }
    s.emit(event, { bad: true }); // no acknowledgement asked for
    s.emit(event, { bad: true }, 'not a function', 7);
    await sleep(30); // under the per-second packet budget
  }
  await sleep(200);
  assert.ok(s.connected, 'the socket survived');
  assert.ok(refused >= events.length * bad.length);
  assert.is((await call(s, 'leave', { channel: 'x' })).ok, true);
});

t('a socket signed in at its handshake stops sending and moderating once its session is signed out', async (ctx) => {
  const a = await api(ctx, {});
  const owner = await a.client().signUp('Leaving Owner');
  assert.is((await owner.post('/api/channels', { slug: 'signed-out', title: 'Signed out' })).status, 201);
  const s = await open(ctx, a, { as: owner });
  await call(s, 'join', { channel: 'signed-out' });
  assert.is((await call(s, 'send', { channel: 'signed-out', text: 'still here' })).ok, true);
  const out = await owner.post('/api/auth/sign-out', {}, { check: false });
  assert.is(out.status, 200, out.text);
  const refused = await call(s, 'send', { channel: 'signed-out', text: 'am I?' });
  assert.is(refused.error?.code, 'unauthorized');
  assert.is((await call(s, 'modes', { channel: 'signed-out', slowSeconds: 5 })).error?.code, 'unauthorized');
  assert.ok(s.connected, 'it may go on reading');
});

t('moderation events name the moderator to moderators only; viewers learn what happened', async (ctx) => {
  const a = await api(ctx, {});
  const owner = await a.client().signUp('Mod Owner');
  const target = await a.client().signUp('Target');
  assert.is((await owner.post('/api/channels', { slug: 'modded', title: 'Modded' })).status, 201);
  const [ownerS, viewerS, targetS] = [await open(ctx, a, { as: owner }), await open(ctx, a), await open(ctx, a, { as: target })];
  for (const s of [ownerS, viewerS, targetS]) await call(s, 'join', { channel: 'modded' });
  const seen = [ownerS, viewerS, targetS].map((s) => new Promise<any>((resolve) => s.once('moderation', resolve)));
  assert.is((await call(ownerS, 'timeout', { channel: 'modded', userId: target.user!.id, seconds: 60 })).ok, true);
  const [byOwner, byViewer, byTarget] = await Promise.all(seen);
  assert.is(byOwner.by, owner.user!.id);
  assert.is(byViewer.by, undefined);
  assert.is(byTarget.by, undefined);
  assert.is(byViewer.action, 'timeout');
  const modes = [ownerS, viewerS].map((s) => new Promise<any>((resolve) => s.once('modes', resolve)));
  assert.is((await call(ownerS, 'modes', { channel: 'modded', slowSeconds: 5 })).ok, true);
  const [mOwner, mViewer] = await Promise.all(modes);
  assert.is(mOwner.by, owner.user!.id);
  assert.is(mViewer.by, undefined);
  assert.is(mViewer.slowSeconds, 5);
});

t.run();
