// The embedded whole: wires the API's dependencies from config, with the SFU and (unless it runs as its own service) the
// recorder in this process, and serves it over HTTP. The one place that joins the parts; used by main.ts and the tests.
import path from 'node:path';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from '../shared/config.ts';
import { createBus } from '../shared/bus.ts';
import { openDatabase, type Database } from '../shared/db/index.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { createStore } from '../shared/storage.ts';
import { createSearch } from '../shared/search/index.ts';
import { SearchSync } from '../shared/search/SearchSync.ts';
import { createApp } from '../api/app.ts';
import { Chat } from '../api/chat/server.ts';
import { admitViewer } from '../api/entitlements.ts';
import { Jobs } from '../api/jobs.ts';
import { notifyFollowers } from '../api/notifications.ts';
import { deliverWebhooks } from '../api/webhooks.ts';
import { createAuth, resolveAuthSecret } from '../api/auth.ts';
import type { Deps } from '../api/context.ts';
import { ApiLimits } from '../api/limits.ts';
import { createMetrics } from '../api/metrics.ts';
import { Sfu } from '../sfu/Sfu.ts';
import { Recorder } from '../recorder/Recorder.ts';

export type RunningApi = { url: string; deps: Deps; sfu: Sfu; recorder: Recorder | undefined; chat: Chat; jobs: Jobs; searchSync: SearchSync; close(): Promise<void> };

export type StartOptions = {
  log?: Logger;
  /** Use this database instead of opening one from config (tests share one per suite). */
  database?: Database;
  /** PGlite in memory instead of on disk (tests). */
  pgliteInMemory?: boolean;
};

export async function startApi(config: Config, opts: StartOptions = {}): Promise<RunningApi> {
  const log = (opts.log ?? createLogger(config.logLevel)).child({ svc: 'api' });
  const database =
    opts.database ??
    (await openDatabase({ url: config.databaseUrl, pgliteDir: opts.pgliteInMemory ? undefined : path.join(config.dataDir, 'pglite') }));
  const bus = await createBus(config.redisUrl, config.redisPrefix, log.child({ svc: 'bus' }));
  const secret = await resolveAuthSecret(config);
  const limits = await ApiLimits.create(config, log.child({ svc: 'limits' }));
  const deps: Deps = {
    config,
    log,
    database,
    bus,
    store: await createStore(config.mediaDir, config.s3),
    auth: createAuth({ config, db: database.db, secret, log, limitStorage: limits.authStorage }),
    metrics: createMetrics(),
    search: await createSearch(config, database.db),
    limits,
  };
  // The SFU runs in this process on embedded defaults; it meets the API only through the bus and its HTTP routes.
  const sfu = await Sfu.create({ config, db: database.db, bus, log: log.child({ svc: 'sfu' }), admitViewer: (req, channelId) => admitViewer(deps, req, channelId) });
  // so does the recorder (unless it runs as its own service): it hears broadcasts start and end on the bus and asks
  // the SFU for their media there
  const recorder = config.recorder.embedded ? await Recorder.create({ config, db: database.db, bus, store: deps.store, log: log.child({ svc: 'recorder' }) }) : undefined;
  const app = createApp(deps, [sfu.app]);
  // applies the search outbox to the index (Meilisearch); with PostgreSQL search it only trims the outbox
  const searchSync = new SearchSync(database.db, deps.search, log.child({ svc: 'search' }), { singleProcess: database.kind === 'pglite' }).start();

  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
    s.once('error', reject);
  });
  // chat (Socket.IO) shares the API's HTTP server and origin
  const chat = await Chat.create(server as HttpServer, deps);
  // background work every API process shares through the database: go-live fan-out, webhook deliveries
  const jobs = new Jobs(database.db, log.child({ svc: 'jobs' }), config.jobs.pollMs);
  const unsubscribe = [notifyFollowers(deps, jobs, chat.push), deliverWebhooks(deps, jobs)];
  jobs.start();
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
  log.info({ url, database: database.kind, bus: bus.kind }, 'api listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    deps,
    sfu,
    recorder,
    chat,
    jobs,
    searchSync,
    close: () =>
      (closing ??= (async () => {
        for (const off of unsubscribe) off();
        await jobs.close();
        await chat.close(); // disconnects every chat client (and stops the HTTP server)
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        });
        await recorder?.close();
        await sfu.close();
        await searchSync.close();
        await bus.close();
        await limits.close();
        if (!opts.database) await database.close();
      })()),
  };
}
