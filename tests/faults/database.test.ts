// PostgreSQL going away under a running API, without stopping the shared server: the API reaches it through a TCP
// proxy in this test, which is cut (every connection destroyed, new ones closed at once) and restored. While it is
// cut, routes answer 503 problem+json with Retry-After (never 500) and a chat send is refused `unavailable`; once it
// is restored the API answers again on its own, and every message acknowledged before the cut is stored. The time
// from restore to the first good answer is printed (docs/benchmarks.md, faults).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { chatMessage, type Database } from '../../shared/db/index.ts';
import { Client, freshDatabase } from '../helpers/api.ts';
import { catchEscapes, startApiOnDatabase, type ApiOnDatabase } from '../helpers/api-on.ts';
import { chatSocket } from '../helpers/chat.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';

type Ctx = { proxy: TcpProxy; db: Awaited<ReturnType<typeof freshDatabase>>; direct: Database; on: ApiOnDatabase; escapes: ReturnType<typeof catchEscapes> };
const t = suite<Ctx>('PostgreSQL cut under a running API');

t.before(async (ctx) => {
  ctx.escapes = catchEscapes();
  ctx.db = await freshDatabase('postgres');
  ctx.direct = ctx.db.database;
  const url = new URL(ctx.db.url!);
  ctx.proxy = new TcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.hostname = '127.0.0.1';
  url.port = String(await ctx.proxy.listen());
  ctx.on = await startApiOnDatabase(url.toString(), { CHAT_USER_MESSAGES: '1000', CHAT_ADDRESS_MESSAGES: '1000' });
});
t.after(async (ctx) => {
  await ctx.on?.stop();
  await ctx.proxy?.close();
  await ctx.db?.drop();
  ctx.escapes?.stop();
});

t('with the database cut, routes answer 503 with Retry-After and chat refuses unavailable; restored, the API answers again and no acknowledged message is lost', async (ctx) => {
  const { proxy } = ctx;
  const { api, spec } = ctx.on;
  const owner = await new Client(api.url, spec).signUp('Cutter');
  assert.is((await owner.post('/api/channels', { slug: 'db-fault', title: 'DB fault' })).status, 201);
  const writer = await chatSocket(api.url, owner);
  try {
    assert.ok((await writer.emitWithAck('join', { channel: 'db-fault' })).ok);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await writer.emitWithAck('send', { channel: 'db-fault', text: `before the cut ${i}` });
      assert.ok(r.ok, JSON.stringify(r));
      acked.push(r.message.id);
    }

    proxy.cut();
    const anon = new Client(api.url, spec);
    for (const [client, path] of [
      [anon, '/api/channels/db-fault'],
      [anon, '/api/channels'],
      [owner, '/api/me'],
      [owner, '/api/auth/get-session'],
    ] as const) {
      const r = await client.get(path, { check: false });
      assert.is(r.status, 503, `${path}: ${r.status} ${r.text}`);
      assert.ok(r.headers.get('content-type')?.includes('application/problem+json'), path);
      assert.ok(Number(r.headers.get('retry-after')) >= 1, `${path} has Retry-After`);
    }
    const signIn = await anon.post('/api/auth/sign-in/email', { email: owner.user!.email, password: 'correct horse battery' }, { check: false });
    assert.is(signIn.status, 503, `sign-in: ${signIn.status} ${signIn.text}`);
    const refused = await writer.timeout(10_000).emitWithAck('send', { channel: 'db-fault', text: 'during the cut' });
    assert.is(refused.ok, false);
    assert.is(refused.error.code, 'unavailable', JSON.stringify(refused));
    assert.ok(refused.error.retryAfterMs > 0);

    const restored = Date.now();
    proxy.restore();
    let answered = 0;
    while (Date.now() - restored < 5_000) {
      if ((await anon.get('/api/channels/db-fault', { check: false })).status === 200) {
        answered = Date.now() - restored;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(answered > 0 || (await anon.get('/api/channels/db-fault')).status === 200, 'the API answers again within 5 s');
    console.log(`faults: postgres restored → API answered again in ${answered} ms`);
    const after = await writer.timeout(10_000).emitWithAck('send', { channel: 'db-fault', text: 'after the cut' });
    assert.ok(after.ok, JSON.stringify(after));

    const stored = await ctx.direct.db.select({ id: chatMessage.id }).from(chatMessage).where(eq(chatMessage.channelId, (await anon.get('/api/channels/db-fault')).body.id));
    const ids = new Set(stored.map((m) => m.id));
    assert.ok(acked.every((id) => ids.has(id)), 'every message acknowledged before the cut is stored');
    assert.is(ids.size, acked.length + 1, 'the refused one was not stored, the one after was');
    assert.equal(ctx.escapes.escaped, [], 'nothing rejected into nowhere');
  } finally {
    writer.disconnect();
  }
});

t.run();
