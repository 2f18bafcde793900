// The control plane wired from config, on either runtime: the API's dependencies, its Hono app and the background
// work every API process shares through the database. No listener and no media plane: server/embedded.ts (Node, with
// the SFU and recorder in process or at SFU_URL) and server/deno.ts (Deno.serve) each add their own. Portable code:
// tests/portable.test.ts holds it to what both runtimes run.
import type { Config } from '../shared/config.ts';
import { createBus } from '../shared/bus.ts';
import { openDatabase, type Database } from '../shared/db/index.ts';
import type { Logger } from '../shared/logger.ts';
import { createMailer } from '../shared/mail.ts';
import { createStore } from '../shared/storage.ts';
import { createReadCache } from '../shared/read-cache.ts';
import { createSearch } from '../shared/search/index.ts';
import { SearchSync } from '../shared/search/SearchSync.ts';
import { createApp, type MediaApp } from '../api/app.ts';
import { createAuth, resolveAuthSecret } from '../api/auth.ts';
import { removeChannelsOf } from '../api/channel-removal.ts';
import type { Deps } from '../api/context.ts';
import { Jobs } from '../shared/jobs.ts';
import { ApiLimits } from '../api/limits.ts';
import { Uploads } from '../api/upload-server.ts';
import { createMetrics } from '../api/metrics.ts';
import { PublicReads } from '../api/read-cache.ts';
import { notifyFollowers } from '../api/notifications.ts';
import type { UserPush } from '../api/user-push.ts';
import { deliverWebhooks } from '../api/webhooks.ts';
import { transcodeRecordings } from '../api/vod-transcode.ts';
import { openSfuNodes } from '../shared/sfu-nodes.ts';

export type ControlPlane = {
  deps: Deps;
  jobs: Jobs;
  searchSync: SearchSync;
  /** the app, with `media` (the SFU's routes, or a proxy to the SFU service) mounted before the web app */
  app(media: MediaApp[]): ReturnType<typeof createApp>;
  /** starts the go-live fan-out and webhook deliveries (`push` reaches signed-in users' chat sockets) */
  startJobs(push: UserPush): void;
  close(): Promise<void>;
};

export type ControlPlaneOptions = {
  log: Logger;
  /** Use this database instead of opening one from config (tests share one per suite). */
  database?: Database;
  /** PGlite in memory instead of on disk (tests). */
  pgliteInMemory?: boolean;
};

export async function openControlPlane(config: Config, opts: ControlPlaneOptions): Promise<ControlPlane> {
  const { log } = opts;
  const database =
    opts.database ?? (await openDatabase({ url: config.databaseUrl, pgliteDir: opts.pgliteInMemory ? undefined : `${config.dataDir}/pglite` }));
  const bus = await createBus(config.redisUrl, config.redisPrefix, log.child({ svc: 'bus' }));
  const secret = await resolveAuthSecret(config);
  const limits = await ApiLimits.create(config, log.child({ svc: 'limits' }));
  const mailer = await createMailer(config, database.db);
  // background work every API process shares through the database: go-live fan-out, webhook deliveries, transcodes
  const jobs = new Jobs(database.db, log.child({ svc: 'jobs' }), config.jobs.pollMs);
  const uploads = await Uploads.open({ config, database, log, jobs });
  const readLog = log.child({ svc: 'read-cache' });
  const reads = new PublicReads(await createReadCache(config.redisUrl, config.redisPrefix, config.readCache, readLog), bus, (err) => readLog.warn({ err }, 'could not invalidate'));
  // an account's deletion takes its follows with it: the followed channels' cached JSON goes once it is gone
  const deletion = reads.accountDeletion(database.db);
  const deps: Deps = {
    config,
    log,
    database,
    bus,
    store: await createStore(config.mediaDir, config.s3),
    auth: createAuth({ config, db: database.db, secret, log, mailer, limitStorage: limits.authStorage, beforeDeleteUser: async (id) => {
        await deletion.before(id);
        await removeChannelsOf(deps, id);
      },
      afterDeleteUser: (id) => deletion.after(id),
      afterUpdateUser: (id) => reads.invalidateChannelsOf(database.db, id) }),
    mailer,
    metrics: createMetrics(),
    search: await createSearch(config, database.db),
    limits,
    reads,
    uploads,
    sfuNodes: await openSfuNodes(config, log.child({ svc: 'sfu-nodes' })),
  };
  // applies the search outbox to the index (Meilisearch); with PostgreSQL search it only trims the outbox
  const searchSync = new SearchSync(database.db, deps.search, log.child({ svc: 'search' }), { singleProcess: database.kind === 'pglite' }).start();
  const unsubscribe: (() => void)[] = [];

  let closing: Promise<void> | undefined;
  return {
    deps,
    jobs,
    searchSync,
    app: (media) => createApp(deps, media),
    startJobs(push) {
      unsubscribe.push(notifyFollowers(deps, jobs, push), deliverWebhooks(deps, jobs), transcodeRecordings(deps, jobs));
      jobs.start();
    },
    close: () =>
      (closing ??= (async () => {
        for (const off of unsubscribe) off();
        await uploads.close();
        await jobs.close();
        await searchSync.close();
        await reads.close();
        await bus.close();
        await deps.sfuNodes?.close();
        await limits.close();
        await mailer.close();
        if (!opts.database) await database.close();
      })()),
  };
}
