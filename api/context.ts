// What every route handler can reach: the service's dependencies and the signed-in user (if any).
import type { Config } from '../shared/config.ts';
import type { Database, Role } from '../shared/db/index.ts';
import type { EventBus } from '../shared/bus.ts';
import type { ObjectStore } from '../shared/storage.ts';
import type { Logger } from '../shared/logger.ts';
import type { Mailer } from '../shared/mail.ts';
import type { Search } from '../shared/search/index.ts';
import type { SfuNodes } from '../shared/sfu-nodes.ts';
import type { Auth } from './auth.ts';
import type { ApiLimits } from './limits.ts';
import type { Metrics } from './metrics.ts';
import type { PublicReads } from './read-cache.ts';
import type { Uploads } from './upload-server.ts';

export type Deps = {
  config: Config;
  log: Logger;
  database: Database;
  bus: EventBus;
  store: ObjectStore;
  auth: Auth;
  metrics: Metrics;
  search: Search;
  /** outgoing mail: SMTP, or the outbox on embedded defaults */
  mailer: Mailer;
  /** per-address, per-user and total budgets (api/limits.ts) */
  limits: ApiLimits;
  /** the read cache of public answers and its invalidations (api/read-cache.ts) */
  reads: PublicReads;
  /** resumable video uploads: the tus server and its store (api/uploads.ts) */
  uploads: Uploads;
  /** where WHIP/WHEP go when the SFU is not in this process: SFU_URL's one node, or the Redis registry's */
  sfuNodes?: SfuNodes;
};

export type SessionUser = { id: string; name: string; email: string; role: Role };

export type AppEnv = {
  Variables: {
    deps: Deps;
    /** null for anonymous requests */
    user: SessionUser | null;
    /** the client's address, resolved once per request (TRUSTED_PROXIES decides whether X-Forwarded-For counts) */
    address: string;
  };
};
