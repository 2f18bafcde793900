// PostgreSQL itself restarted under load: a private cluster (initdb into a temporary directory, run as the `postgres`
// user) is stopped in immediate mode — the way a crash ends it, with recovery at the next start — while chat writers
// and HTTP readers keep the API busy, then started again. The API answers again within 5 s of the restart on its
// own, answers 503 (never 500) while the database is away, and every chat message it acknowledged is stored.
// The time from the restart to the first good answer is printed (docs/benchmarks.md, faults).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { chatMessage, openDatabase, type Database } from '../../shared/db/index.ts';
import { Client, freePort } from '../helpers/api.ts';
import { catchEscapes, startApiOnDatabase, type ApiOnDatabase } from '../helpers/api-on.ts';
import { chatSocket } from '../helpers/chat.ts';

const run = promisify(execFile);

/** A PostgreSQL cluster of its own (Debian's server binaries, as the `postgres` user: the server refuses root). */
class PrivateCluster {
  private proc: ChildProcess | undefined;
  private constructor(
    private readonly bin: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<PrivateCluster> {
    const versions = (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(b) - Number(a));
    const bin = `/usr/lib/postgresql/${versions[0]}/bin`;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'glint-pg-'));
    const { uid, gid } = await userIds('postgres');
    await chown(dir, uid, gid);
    await run('runuser', ['-u', 'postgres', '--', `${bin}/initdb`, '-D', `${dir}/data`, '-A', 'trust', '-U', 'postgres', '--no-sync'], { encoding: 'utf8' });
    return new PrivateCluster(bin, dir, await freePort());
  }

  get url() {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    this.proc = spawn('runuser', ['-u', 'postgres', '--', `${this.bin}/postgres`, '-D', `${this.dir}/data`, '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'], { stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      const ready = await run(`${this.bin}/pg_isready`, ['-h', '127.0.0.1', '-p', String(this.port), '-q']).then(() => true, () => false);
      if (ready) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the private PostgreSQL did not start');
  }

  /** Immediate shutdown: every backend ends at once, nothing is checkpointed, the next start recovers (as after a crash). */
  async crash(): Promise<void> {
    await run('runuser', ['-u', 'postgres', '--', `${this.bin}/pg_ctl`, '-D', `${this.dir}/data`, 'stop', '-m', 'immediate', '-w']);
    this.proc = undefined;
  }

  async destroy(): Promise<void> {
    if (this.proc) await this.crash().catch(() => this.proc?.kill('SIGKILL'));
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function userIds(name: string) {
  const { stdout } = await run('id', [name], { encoding: 'utf8' });
  return { uid: Number(/uid=(\d+)/.exec(stdout)![1]), gid: Number(/gid=(\d+)/.exec(stdout)![1]) };
}

type Ctx = { cluster: PrivateCluster; direct?: Database; on: ApiOnDatabase; escapes: ReturnType<typeof catchEscapes> };
const t = suite<Ctx>('PostgreSQL restarted under load');

t.before(async (ctx) => {
  ctx.escapes = catchEscapes();
  ctx.cluster = await PrivateCluster.create();
  await ctx.cluster.start();
  ctx.on = await startApiOnDatabase(ctx.cluster.url);
});
t.after(async (ctx) => {
  await ctx.on?.stop();
  await ctx.direct?.close();
  await ctx.cluster?.destroy();
  ctx.escapes?.stop();
});

t('restarted mid-load: 503 while away, answers again within 5 s, every acknowledged chat message stored', async (ctx) => {
  const { cluster } = ctx;
  const { api, spec } = ctx.on;
  const owner = await new Client(api.url, spec).signUp('Restarter');
  assert.is((await owner.post('/api/channels', { slug: 'pg-restart', title: 'PG restart' })).status, 201);
  const channelId = (await owner.get('/api/channels/pg-restart')).body.id as string;
  const writers = await Promise.all([0, 1, 2].map(() => chatSocket(api.url, owner)));
  const acked: string[] = [];
  const refusals = new Map<string, number>();
  const statuses = new Map<number, number>();
  let loading = true;
  try {
    for (const w of writers) assert.ok((await w.emitWithAck('join', { channel: 'pg-restart' })).ok);
    // the load: three writers and two readers, back to back, for the whole test
    const load = [
      ...writers.map(async (w, n) => {
        for (let i = 0; loading; i++) {
          // at most 20 sends a second: a connection sending more than CHAT_SOCKET_PACKETS_PER_SECOND (40) is closed as
          // a flood, and its unanswered sends would time out
          const paced = new Promise((res) => setTimeout(res, 50));
          const r = await w.timeout(15_000).emitWithAck('send', { channel: 'pg-restart', text: `writer ${n} message ${i}` }).catch(() => ({ ok: false, error: { code: 'timeout' } }));
          if (r.ok) acked.push(r.message.id);
          else refusals.set(r.error.code, (refusals.get(r.error.code) ?? 0) + 1);
          await paced;
        }
      }),
      ...[0, 1].map(async () => {
        const anon = new Client(api.url, spec);
        while (loading) {
          const status = (await anon.get('/api/channels/pg-restart', { check: false })).status;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    ];
    await new Promise((r) => setTimeout(r, 1500));
    const ackedBefore = acked.length;
    assert.ok(ackedBefore > 0, 'messages were acknowledged before the restart');

    await cluster.crash();
    await new Promise((r) => setTimeout(r, 1000)); // away for a second under load
    await cluster.start();
    const restarted = Date.now();
    const probe = new Client(api.url, spec);
    let answered = -1;
    while (Date.now() - restarted < 5_000) {
      if ((await probe.get('/api/channels/pg-restart', { check: false })).status === 200) {
        answered = Date.now() - restarted;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(answered >= 0, 'the API answers again within 5 s of the restart');
    const ackedAtRestart = acked.length;
    await new Promise((r) => setTimeout(r, 1500)); // and keeps going under the load
    loading = false;
    await Promise.all(load);
    console.log(`faults: postgres restarted under load → API answered again in ${answered} ms; ${acked.length} messages acknowledged, refusals ${JSON.stringify(Object.fromEntries(refusals))}, HTTP ${JSON.stringify(Object.fromEntries(statuses))}`);

    assert.ok(acked.length > ackedAtRestart, 'chat acknowledges messages again after the restart');
    assert.ok((statuses.get(503) ?? 0) + (refusals.get('unavailable') ?? 0) > 0, 'the outage was seen by the load');
    for (const status of statuses.keys()) assert.ok(status === 200 || status === 503, `HTTP answered ${status} (only 200 or 503 may be)`);
    for (const code of refusals.keys()) assert.is(code, 'unavailable', `chat refused with ${code}`);

    ctx.direct = await openDatabase({ url: cluster.url });
    const stored = new Set((await ctx.direct.db.select({ id: chatMessage.id }).from(chatMessage).where(eq(chatMessage.channelId, channelId))).map((m) => m.id));
    const lost = acked.filter((id) => !stored.has(id));
    assert.equal(lost, [], `${lost.length} of ${acked.length} acknowledged messages are not stored`);
    assert.equal(ctx.escapes.escaped, [], 'nothing rejected into nowhere');
  } finally {
    loading = false;
    for (const w of writers) w.disconnect();
  }
});

t.run();
