// The media plane as its own Node service (`npm run sfu`, docker-compose's `sfu`): the mediasoup SFU with its WHIP,
// WHEP and RTMP ingest, and the recorder unless RECORDER_EMBEDDED=false — beside an API on Deno or Node started with
// SFU_URL pointing here. It meets the API as separate processes already do: the database (stream keys, channels,
// live sessions) and the Redis bus (broadcasts starting and ending, the recorder's requests). A subscriber-only
// stream's viewers are admitted with the same session cookie the API set, read with the same secret.
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfigOrExit } from '../shared/config.ts';
import { AppError, problemForStatus, problemHeaders, type Problem } from '../shared/errors.ts';
import { createBus } from '../shared/bus.ts';
import { openDatabase } from '../shared/db/index.ts';
import { createLogger } from '../shared/logger.ts';
import { createStore } from '../shared/storage.ts';
import { createAuth, resolveAuthSecret } from '../api/auth.ts';
import { createMailer } from '../shared/mail.ts';
import { admitViewer } from '../api/entitlements.ts';
import { Sfu } from '../sfu/Sfu.ts';
import { SfuNode } from '../sfu/cluster/SfuNode.ts';
import { Recorder } from '../recorder/Recorder.ts';
import { listeningUrl } from './listening.ts';
import { closeOnSignals } from './shutdown.ts';

const config = loadConfigOrExit((c) => {
  if (!c.redisUrl || !c.databaseUrl) {
    throw new ConfigError('The SFU as its own service needs REDIS_URL (the API and recorder meet it on the bus) and DATABASE_URL (the embedded PGlite belongs to one process).');
  }
});
const log = createLogger(config.logLevel).child({ svc: 'sfu' });
const database = await openDatabase({ url: config.databaseUrl });
const bus = await createBus(config.redisUrl, config.redisPrefix, log.child({ svc: 'bus' }));
// only to read the API's session cookies (subscriber-only WHEP): the same BETTER_AUTH_SECRET as the API's
const auth = createAuth({ config, db: database.db, secret: await resolveAuthSecret(config), log, mailer: await createMailer(config, database.db) });
// this process as a node of the media plane: the API (SFU_DISCOVERY=redis) finds it in the registry
const nodeId = config.sfuNode.id ?? `sfu-${crypto.randomUUID().slice(0, 8)}`;
const node = new SfuNode({
  id: nodeId, capacity: config.sfu.maxViewers, redisUrl: config.redisUrl!, redisPrefix: config.redisPrefix, drainGraceMs: config.sfuNode.drainGraceMs, db: database.db, bus, log, edgePull: config.sfuNode.edgePull,
});
const sfu = await Sfu.create({
  config, db: database.db, bus, log, admitViewer: (req, channelId) => admitViewer({ database, auth }, req, channelId), heldElsewhere: () => node.heldElsewhere(), mayStart: (channelId) => node.mayStart(channelId),
  // viewers of a broadcast another node receives are served here over a pipe from there (sfu/cluster/EdgePull.ts)
  ...(config.sfuNode.edgePull ? { edge: { nodeId, nodes: () => node.nodes() } } : {}),
});
const recorder = config.recorder.embedded ? await Recorder.create({ config, db: database.db, bus, store: await createStore(config.mediaDir, config.s3), log: log.child({ svc: 'recorder' }) }) : undefined;

// the same answers the API gives: problem+json (with the headers a route set, e.g. WWW-Authenticate), a 500 only for
// our own bugs (logged)
const problem = (c: Context, p: Problem, retryAfterSeconds?: number) => c.body(JSON.stringify(p), p.status as 400, problemHeaders(retryAfterSeconds));
const app = new Hono()
  .get('/healthz', (c) => c.json({ status: 'ok' }))
  .get('/readyz', async (c) => {
    try {
      await database.ping();
      return c.json({ status: 'ok', database: database.kind, bus: bus.kind });
    } catch {
      return problem(c, problemForStatus(503, 'The database is unreachable.', c.req.path));
    }
  })
  .use(node.refuseWhileDraining())
  .route('/', sfu.app);
app.notFound((c) => problem(c, problemForStatus(404, `No route for ${c.req.method} ${c.req.path}.`, c.req.path)));
app.onError((err, c) => {
  if (err instanceof AppError) return problem(c, err.toProblem(c.req.path), err.retryAfterSeconds);
  log.error({ err, method: c.req.method, path: c.req.path }, 'unhandled error');
  return problem(c, problemForStatus(500, 'Something went wrong on our side; it has been logged.', c.req.path));
});
const server: ServerType = await new Promise((resolve, reject) => {
  const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
  s.once('error', reject);
});
const url = listeningUrl(config.host, (server.address() as AddressInfo).port);
await node.join(sfu, config.sfuNode.url ?? url, () => process.kill(process.pid, 'SIGTERM'));
log.info({ url, node: nodeId, rtmp: sfu.rtmp?.port, recorder: recorder ? 'in process' : 'separate', bus: bus.kind }, 'sfu listening');
console.log(`sfu listening at ${url}`);

closeOnSignals(log, 'sfu shutting down', async () => {
  // new broadcasts go to other nodes at once; the ones here get SFU_DRAIN_GRACE_MS to end
  await node.drain();
  await node.leave();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
  await recorder?.close();
  await sfu.close();
  await bus.close();
  await database.close();
});
