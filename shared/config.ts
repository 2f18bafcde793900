// The only reader of the environment (which it takes from shared/host/config-env.ts). Every service parses its settings
// here and fails fast with a clear message.
import { z } from 'zod';
import { parseTrustedProxies, type TrustedProxies } from './client-address.ts';
import { DEFAULT_MAX_UPLOAD_BYTES } from './bounds.ts';
import { joinPath, resolvePath } from './host/files.ts';
import { environment } from './host/config-env.ts';
import { cores, exit } from './host/process.ts';
import { parseMediaKeys, type MediaKeySpec } from './media-token.ts';

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.url().optional())
  .optional();

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: port.default(8080),
  /** Public origin users reach Glint at (through Caddy in production); derived from HOST/PORT when unset. */
  PUBLIC_URL: optionalUrl,
  /** Where the embedded defaults keep their files (PGlite database, media, generated secret). */
  DATA_DIR: z.string().default('./data'),
  /** PostgreSQL connection string; unset → embedded PGlite under DATA_DIR/pglite. */
  DATABASE_URL: optionalUrl,
  /** Redis connection string; unset → in-process event bus. */
  REDIS_URL: optionalUrl,
  /** Prefix of Glint's Redis channels, so several deployments (or test runs) can share one Redis. */
  REDIS_PREFIX: z.string().trim().min(1).default('glint:'),
  /** Session signing secret; unset → generated once and kept in DATA_DIR/secret. */
  BETTER_AUTH_SECRET: z.string().min(32, 'BETTER_AUTH_SECRET must be at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest JSON body the API accepts (bytes). */
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(64 * 1024),
  /** Largest image upload (avatars) in bytes. */
  MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_UPLOAD_BYTES),
  /** Address the SFU's WebRTC transports bind to. */
  RTC_LISTEN_IP: z.string().default('127.0.0.1'),
  /** Address put in ICE candidates (the public IP behind NAT/Docker); unset → RTC_LISTEN_IP. */
  RTC_ANNOUNCED_IP: z.string().trim().optional().transform((v) => (v ? v : undefined)),
  /** WebRTC (WHIP/WHEP) goes through one WebRtcServer per mediasoup worker: worker i listens on RTC_PORT + i, UDP
   * and TCP. 0 → each worker takes a free port from RTC_MIN_PORT..RTC_MAX_PORT. */
  RTC_PORT: port.default(40000),
  /** Ports for plain RTP (the RTMP bridge, the recorder), shared by every worker (a port in use is skipped). */
  RTC_MIN_PORT: port.default(40100),
  RTC_MAX_PORT: port.default(40999),
  /** How long a broadcast waits for its publisher to reconnect after the connection drops (ms). */
  PUBLISH_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  /** mediasoup workers (one per core by default). */
  SFU_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
  /** WHEP viewers one channel seats on one worker (~250 is what one core forwards at 720p 2.5 Mbit/s): a channel's
   * viewers spread over every worker (sfu/Fanout.ts), so it takes this × workers; and SFU_MAX_VIEWERS in all. */
  SFU_VIEWERS_PER_CHANNEL: z.coerce.number().int().min(1).max(100_000).default(250),
  SFU_MAX_VIEWERS: z.coerce.number().int().min(1).max(1_000_000).optional(),
  /** Payload-type numberings besides the room's one channel serves at once (Chromium, Firefox, Safari each differ;
   * each is a branch router on every worker it reaches). SFU_EDGE_ROUTERS_PER_CHANNEL is its former name. */
  SFU_NUMBERINGS_PER_CHANNEL: z.coerce.number().int().min(0).max(64).optional(),
  SFU_EDGE_ROUTERS_PER_CHANNEL: z.coerce.number().int().min(0).max(64).optional(),
  /** WHEP offers one address may send per minute, and WHEP sessions it may hold at once (a NAT shares both). */
  WHEP_OFFERS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(60),
  WHEP_SESSIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(20),
  /** Failed WHIP stream-key checks one address may make per minute before it gets 429 (key guessing). */
  WHIP_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(10),
  /** RTMP ingest port for OBS/FFmpeg (0 picks a free port; `RTMP_ENABLED=false` turns ingest off). */
  RTMP_PORT: port.default(1935),
  /** Address the RTMP server binds to; unset → HOST. */
  RTMP_HOST: z.string().trim().optional().transform((v) => (v ? v : undefined)),
  RTMP_ENABLED: z.enum(['true', 'false']).default('true'),
  /** The RTMP address streamers paste into OBS, e.g. rtmp://live.example.com/live; derived from PUBLIC_URL when unset. */
  RTMP_PUBLIC_URL: z.string().trim().optional().transform((v) => (v ? v.replace(/\/$/, '') : undefined)).pipe(z.string().regex(/^rtmps?:\/\/[^/]+\/live$/, 'RTMP_PUBLIC_URL must look like rtmp://host[:port]/live').optional()),
  /** RTMP connections held at once, in total and from one address (the socket's peer: nothing proxies RTMP). */
  RTMP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(100_000).default(100),
  RTMP_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(8),
  /** Wrong stream keys one address may try per minute over RTMP; past that its keys are refused unchecked. */
  RTMP_KEY_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(10),
  /** From connecting to an accepted publish (handshake, connect, publish, key check), however the bytes trickle in (ms). */
  RTMP_HANDSHAKE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** The largest RTMP audio or video message (one encoded frame) a publisher may send, in bytes (RTMP's 24-bit
   * length allows 16 MiB; everything else, commands and metadata, is held to 64 KiB). */
  RTMP_MAX_MESSAGE_BYTES: z.coerce.number().int().min(64 * 1024).max(0xffffff).default(8 << 20),
  /** The API process records broadcasts itself; `false` when the recorder runs as its own service (`npm run
   * recorder`, docker-compose's `recorder`), which needs REDIS_URL and DATABASE_URL. */
  RECORDER_EMBEDDED: z.enum(['true', 'false']).default('true'),
  /** Where the SFU sends a recording's RTP: the recorder's host as the SFU reaches it (a name is resolved by the
   * recorder, e.g. `recorder` in docker-compose). */
  RECORDER_RTP_HOST: z.string().trim().min(1).default('127.0.0.1'),
  /** Where the media plane's HTTP (WHIP, WHEP, /api/ingest) is when the SFU runs as its own Node service (`npm run
   * sfu`), e.g. http://sfu:8080: the API then runs no SFU and forwards those routes there. Unset → the SFU runs
   * inside the API process (Node only; the Deno API needs this set for live media). */
  SFU_URL: optionalUrl,
  /** `redis`: the API routes WHIP/WHEP to every SFU node registered in Redis (sfu/README.md, "Many nodes") instead
   * of the one SFU_URL names; needs REDIS_URL and SFU_URL unset. `url` (default): SFU_URL, or the SFU in process. */
  SFU_DISCOVERY: z.enum(['url', 'redis']).default('url'),
  /** This SFU node's name in the registry and in its WHIP/WHEP resource paths; unset → `sfu-` and 8 random hex digits. */
  SFU_NODE_ID: z.string().trim().regex(/^[A-Za-z0-9_-]{1,64}$/, 'SFU_NODE_ID: letters, digits, - and _ (at most 64)').optional(),
  /** This SFU node's HTTP base as the API reaches it (e.g. http://sfu-2:8080); unset → the address it listens on. */
  SFU_NODE_URL: optionalUrl,
  /** A draining SFU node (SIGTERM, or an admin's drain) waits this long for its broadcasts to end before it closes
   * them (ms): publishers and players reconnect and land on another node. */
  SFU_DRAIN_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  /** With SFU_DISCOVERY=redis: a viewer goes to the least-loaded node, and a node not holding the broadcast pulls it
   * from its origin over a pipe (sfu/README.md, "Edge pull"); `false`: every viewer goes to the origin. */
  SFU_EDGE_PULL: z.enum(['true', 'false']).default('true'),
  /** Chat rate limits: messages per window from one user, and from one address (users behind one NAT share it). */
  CHAT_USER_MESSAGES: z.coerce.number().int().min(1).max(10_000).default(5),
  CHAT_ADDRESS_MESSAGES: z.coerce.number().int().min(1).max(100_000).default(20),
  CHAT_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
  CHAT_BATCH_MS: z.coerce.number().int().min(0).max(1000).default(100),
  /** Chat joins per window from one address (each costs a channel lookup; a socket has a budget of its own too). */
  CHAT_ADDRESS_JOINS: z.coerce.number().int().min(1).max(100_000).default(200),
  /** Socket.IO connections held at once from one address (many viewers may share a NAT), and by the whole process
   * (refused in the handshake). */
  CHAT_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(100),
  CHAT_CONNECTIONS_TOTAL: z.coerce.number().int().min(1).max(1_000_000).default(20_000),
  /** Packets one chat connection may send per second (any event, acknowledgement, ping); over it, it is closed. */
  CHAT_SOCKET_PACKETS_PER_SECOND: z.coerce.number().int().min(5).max(100_000).default(40),
  /** Background jobs (go-live fan-out, webhook deliveries): the longest an API process waits before looking for due
   * ones it was not told of (enqueued by another process, or left by one that crashed). */
  JOBS_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(30_000),
  /** The Node API process runs VoD transcodes (the 'vod.transcode' jobs) itself; `false` when only `npm run worker`
   * (docker-compose's `worker`) should. A Deno API never does (it has no FFmpeg wrapper). */
  TRANSCODE_IN_API: z.enum(['true', 'false']).default('true'),
  /** The niceness transcoding FFmpeg runs at (0..19): above live ingest and recording's 0, so a transcode yields the
   * CPU to a broadcast instead of starving it. */
  TRANSCODE_NICE: z.coerce.number().int().min(0).max(19).default(10),
  /** A transcoding FFmpeg that reports no progress for this long is killed and its job retried. */
  TRANSCODE_STALL_SECONDS: z.coerce.number().min(0.1).max(3600).default(60),
  /** Past broadcasts get the same ladder as uploads once their recording is ready. */
  TRANSCODE_PAST_BROADCASTS: z.enum(['true', 'false']).default('true'),
  /** Outgoing webhooks: attempts per delivery, the first retry's wait (doubling after), each attempt's timeout. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
  WEBHOOK_RETRY_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Webhooks may reach loopback and private-network addresses (an integration on the same host or LAN). Off by
   * default: any user who owns a channel registers webhooks, and the server must not become their way into the
   * operator's internal network. */
  WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false'),
  /** S3-compatible object storage for media (MinIO in docker-compose); unset → local disk under DATA_DIR/media. */
  S3_ENDPOINT: optionalUrl,
  S3_BUCKET: z.string().trim().default('glint-media'),
  S3_ACCESS_KEY: z.string().optional(),
  S3_SECRET_KEY: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  /** The origin browsers reach the bucket at (signed URLs are made for it); unset → see s3PublicUrl. */
  S3_PUBLIC_URL: optionalUrl,
  /** Where browsers fetch HLS files from: a CDN's base URL (in front of Glint's /hls, or of the object store through
   * edge/hls-edge.ts), an object key appended, e.g. https://cdn.example.com/hls; unset → Glint's own /hls. */
  MEDIA_PUBLIC_URL: optionalUrl,
  /** Keys of signed media URLs, `kid:secret,…` (secrets ≥ 32 characters): the first signs, all verify; unset → one
   * derived from the session secret (an edge then cannot verify: give it and Glint the same keys). */
  MEDIA_SIGNING_KEYS: z.string().trim().optional().transform((v) => (v ? v : undefined)).superRefine((v, ctx) => {
    try {
      if (v) parseMediaKeys(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `MEDIA_SIGNING_KEYS: ${(err as Error).message}` });
    }
  }),
  /** How long a signed media URL plays (seconds; rounded up to the hour, so a viewer's URLs repeat within it). */
  MEDIA_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 86_400).default(4 * 3600),
  /** Reverse proxies whose X-Forwarded-For is believed (Caddy's address): addresses, CIDR ranges, `loopback`,
   * `private`. Unset: none — every per-address limit counts the connection's own peer. */
  TRUSTED_PROXIES: z.string().default('').superRefine((v, ctx) => {
    try {
      parseTrustedProxies(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `TRUSTED_PROXIES: ${(err as Error).message}` });
    }
  }),
  /** Attempts per window from one address at each sensitive auth endpoint (sign-in, sign-up, password change and
   * reset, email change and verification); on in every NODE_ENV. */
  AUTH_ATTEMPTS: z.coerce.number().int().min(1).max(1_000_000).default(5),
  AUTH_ATTEMPTS_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** Accounts one address may create per hour, and all addresses together (a swarm of addresses). */
  SIGNUPS_PER_ADDRESS_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(10),
  SIGNUPS_PER_HOUR: z.coerce.number().int().min(1).max(10_000_000).default(1000),
  /** The first account on an empty instance becomes its admin; `false`: only `npm run admin:create` makes admins. */
  FIRST_USER_ADMIN: z.enum(['true', 'false']).default('true'),
  /** Mail (password resets, email verification) goes out through this SMTP server, e.g.
   * smtps://user:pass@smtp.example.com:465; unset → kept in the database's outbox, which admins read at /admin/outbox. */
  SMTP_URL: z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(z.url({ protocol: /^smtps?$/, error: 'SMTP_URL: an smtp:// or smtps:// URL' }).optional())
    .optional(),
  /** The From of Glint's mail, `Name <address>` or an address; unset → no-reply at PUBLIC_URL's host. */
  MAIL_FROM: z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(z.string().min(3).max(320).optional())
    .optional(),
  /** Sign-in needs a verified email address. Off by default: on embedded defaults (mail in the outbox) nobody would
   * get in; unverified accounts see a banner asking them to verify. */
  REQUIRE_EMAIL_VERIFICATION: z.enum(['true', 'false']).default('false'),
  /** Writes per user: channels created per hour, stream keys created or rotated per hour, follows and unfollows per minute. */
  CHANNELS_PER_USER_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(20),
  STREAM_KEYS_PER_USER_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(60),
  FOLLOWS_PER_USER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(60),
  /** Searches per second from one address, and searches running at once in this process (each is a database query). */
  SEARCHES_PER_ADDRESS_SECOND: z.coerce.number().int().min(1).max(1_000_000).default(10),
  SEARCH_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(32),
  /** Comma-separated extra origins allowed to call the API with cookies (e.g. the Caddy origin). */
  TRUSTED_ORIGINS: z.string().default(''),
  /** Uploaded videos (tus, api/uploads.ts): the client's chunk size — one PATCH body — under the 100 MB body limit
   * common proxies (Cloudflare's free plan) put on a request; the largest file; what one user may store in all and
   * upload per 24 h (counted when an upload is created, from its declared length); the longest video; how long an
   * unfinished upload waits for the rest of its bytes. */
  UPLOAD_CHUNK_BYTES: z.coerce.number().int().min(256 * 1024).max(1 << 30).default(50 * 1024 * 1024),
  UPLOAD_MAX_FILE_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(20 * 1024 ** 3),
  UPLOAD_QUOTA_BYTES: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(100 * 1024 ** 3),
  UPLOAD_DAILY_QUOTA_BYTES: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(20 * 1024 ** 3),
  UPLOAD_MAX_DURATION_SECONDS: z.coerce.number().int().min(1).max(7 * 86_400).default(12 * 3600),
  UPLOAD_EXPIRE_HOURS: z.coerce.number().min(0.001).max(24 * 365).default(24),
  /** Upload requests (creations, chunks, offset checks) one address may make per minute; chunks one process receives
   * at once from one address and in all (each holds a connection and a file or part being written). */
  UPLOAD_REQUESTS_PER_ADDRESS_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  UPLOADS_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(8),
  UPLOADS_TOTAL: z.coerce.number().int().min(1).max(100_000).default(64),
  /** The read cache of public answers (channel JSON, VoD lists, a chat join's history; shared/read-cache.ts): how
   * long an entry lives at most (writes invalidate it before that; 0 turns the cache off), and entries one process
   * keeps when it is in memory (no REDIS_URL). */
  READ_CACHE_TTL_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  READ_CACHE_ENTRIES: z.coerce.number().int().min(1).max(10_000_000).default(10_000),
  /** Meilisearch for search (docker-compose's meilisearch); unset → PostgreSQL full-text and trigram search. */
  MEILI_URL: optionalUrl,
  MEILI_API_KEY: z.string().optional(),
  /** Name of Glint's Meilisearch index, so several deployments (or test runs) can share one server. */
  MEILI_INDEX: z.string().trim().regex(/^[A-Za-z0-9_-]{1,200}$/, 'MEILI_INDEX: letters, digits, - and _').default('glint'),
});

/** Every environment variable Glint reads (docker-compose.yml is tested against this list). */
export const CONFIG_KEYS = Object.keys(schema.shape) as (keyof typeof schema.shape)[];

export type Config = {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  publicUrl: string;
  dataDir: string;
  mediaDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  redisPrefix: string;
  authSecret: string | undefined;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  maxBodyBytes: number;
  maxUploadBytes: number;
  trustedOrigins: string[];
  /** proxies whose X-Forwarded-For names the client (see shared/client-address.ts) */
  trustedProxies: TrustedProxies;
  rtc: { listenIp: string; announcedIp: string | undefined; port: number; minPort: number; maxPort: number; workers: number; publishGraceMs: number };
  /** caps on the SFU's viewers and on what one address may ask of it */
  sfu: { viewersPerChannel: number; maxViewers: number; numberingsPerChannel: number; whepOffersPerMinute: number; whepSessionsPerAddress: number; whipAuthFailuresPerMinute: number };
  /** RTMP ingest; undefined when turned off. `publicUrl` is what the studio shows (the port is filled in once bound). */
  rtmp:
    | {
        host: string;
        port: number;
        publicUrl: string | undefined;
        maxConnections: number;
        maxConnectionsPerAddress: number;
        keyFailuresPerMinute: number;
        handshakeTimeoutMs: number;
        maxMessageBytes: number;
      }
    | undefined;
  /** embedded: the API process records; rtpHost: where the SFU sends the recorder's RTP */
  recorder: { embedded: boolean; rtpHost: string };
  /** the SFU service's base URL when the media plane runs apart from the API (SFU_URL), else undefined */
  sfuUrl: string | undefined;
  /** 'redis': the API routes to the SFU nodes registered in Redis (shared/sfu-nodes.ts); 'url': to sfuUrl */
  sfuDiscovery: 'url' | 'redis';
  /** this SFU node in the registry: its id and URL (undefined → chosen at start), how long a drain waits */
  sfuNode: { id: string | undefined; url: string | undefined; drainGraceMs: number; edgePull: boolean };
  /** chat rate limits: messages per window (seconds) per user and per address, joins per window per address;
   * connections held at once per address and in total */
  chat: { userMessages: number; addressMessages: number; windowSeconds: number; batchMs: number; addressJoins: number; connectionsPerAddress: number; connectionsTotal: number; socketPacketsPerSecond: number };
  jobs: { pollMs: number };
  /** VoD transcoding: in the Node API process or not, FFmpeg's niceness, the stall watchdog, past broadcasts too */
  transcode: { inApi: boolean; nice: number; stallSeconds: number; pastBroadcasts: boolean };
  /** per-address and per-user budgets of the API's own endpoints and better-auth's */
  limits: {
    authAttempts: number;
    authWindowSeconds: number;
    signUpsPerAddressHour: number;
    signUpsPerHour: number;
    channelsPerUserHour: number;
    streamKeysPerUserHour: number;
    followsPerUserMinute: number;
    searchesPerAddressSecond: number;
    searchConcurrency: number;
  };
  /** the first account on an empty instance becomes admin */
  firstUserAdmin: boolean;
  /** outgoing mail: by SMTP when smtpUrl is set, else into the database's outbox (shared/mail.ts) */
  mail: { smtpUrl: string | undefined; from: string; requireVerification: boolean };
  webhooks: { maxAttempts: number; retryMs: number; timeoutMs: number; allowPrivate: boolean };
  /** Object storage on S3 when S3_ENDPOINT is set; undefined → local disk (mediaDir). */
  s3: { endpoint: string; bucket: string; accessKey: string; secretKey: string; region: string; publicUrl: string | null } | undefined;
  /** HLS delivery: the base URL files are referenced at (no trailing slash; undefined → /hls on this origin), the
   * keys of signed URLs (undefined → derived from the session secret) and how long a signed URL lives. */
  media: { publicUrl: string | undefined; signingKeys: MediaKeySpec[] | undefined; tokenTtlSeconds: number };
  /** resumable video uploads (api/uploads.ts); dir: the file store's directory (S3 when `s3` is set) */
  uploads: {
    dir: string;
    chunkBytes: number;
    maxFileBytes: number;
    quotaBytes: number;
    dailyQuotaBytes: number;
    maxDurationSeconds: number;
    expireMs: number;
    requestsPerAddressMinute: number;
    perAddress: number;
    total: number;
  };
  /** the read cache (shared/read-cache.ts): entry lifetime (0: off) and entries kept in memory */
  readCache: { ttlMs: number; maxEntries: number };
  /** Search in Meilisearch when MEILI_URL is set; undefined → in the database (PostgreSQL full text + pg_trgm). */
  meili: { url: string; apiKey: string | undefined; index: string } | undefined;
};

/**
 * Where browsers fetch media objects from: S3_PUBLIC_URL; without it the endpoint itself, unless its host is a
 * single-label name (`minio` on a compose network) that no browser resolves: then null, and the API streams the
 * objects itself rather than redirect to a URL that cannot load.
 */
function s3PublicUrl(endpoint: string, publicUrl: string | undefined): string | null {
  if (publicUrl) return publicUrl;
  const host = new URL(endpoint).hostname;
  return host.includes('.') || host.includes(':') || host === 'localhost' ? endpoint : null;
}

/** mediasoup workers by default: one per core. */
const workerCount = () => Math.max(1, cores());

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses settings from an environment-shaped record (the process's, from shared/host/, by default). Throws ConfigError listing every bad key. */
export function loadConfig(source: Record<string, string | undefined> = environment()): Config {
  const parsed = schema
    .refine((e) => e.RTC_MIN_PORT <= e.RTC_MAX_PORT, { message: 'RTC_MIN_PORT must not exceed RTC_MAX_PORT', path: ['RTC_MIN_PORT'] })
    .refine((e) => e.RTC_PORT + Math.max(2, e.SFU_WORKERS ?? workerCount()) - 1 <= 65535, { message: 'RTC_PORT + SFU_WORKERS - 1 must be a port (≤ 65535)', path: ['RTC_PORT'] })
    .refine((e) => !e.S3_PUBLIC_URL || new URL(e.S3_PUBLIC_URL).pathname === '/', { message: 'S3_PUBLIC_URL is an origin (scheme, host, port), with no path', path: ['S3_PUBLIC_URL'] })
    .refine((e) => !e.MEDIA_PUBLIC_URL || (/^https?:$/.test(new URL(e.MEDIA_PUBLIC_URL).protocol) && !new URL(e.MEDIA_PUBLIC_URL).search && !new URL(e.MEDIA_PUBLIC_URL).hash), {
      message: 'MEDIA_PUBLIC_URL is an http(s) base URL with no query or fragment',
      path: ['MEDIA_PUBLIC_URL'],
    })
    .refine((e) => !e.S3_ENDPOINT || (e.S3_ACCESS_KEY && e.S3_SECRET_KEY), { message: 'S3_ENDPOINT needs S3_ACCESS_KEY and S3_SECRET_KEY', path: ['S3_ENDPOINT'] })
    .refine((e) => e.SFU_DISCOVERY !== 'redis' || (e.REDIS_URL && !e.SFU_URL), { message: 'SFU_DISCOVERY=redis needs REDIS_URL (where the nodes register) and SFU_URL unset', path: ['SFU_DISCOVERY'] })
    .safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = resolvePath(e.DATA_DIR);
  const workers = e.SFU_WORKERS ?? workerCount();
  const shownHost = e.HOST === '0.0.0.0' || e.HOST === '::' ? '127.0.0.1' : e.HOST;
  const publicUrl = (e.PUBLIC_URL ?? `http://${shownHost}:${e.PORT}`).replace(/\/$/, '');
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    publicUrl,
    dataDir,
    mediaDir: joinPath(dataDir, 'media'),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    authSecret: e.BETTER_AUTH_SECRET,
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    trustedOrigins: e.TRUSTED_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean),
    trustedProxies: parseTrustedProxies(e.TRUSTED_PROXIES),
    rtc: {
      listenIp: e.RTC_LISTEN_IP,
      announcedIp: e.RTC_ANNOUNCED_IP,
      port: e.RTC_PORT,
      minPort: e.RTC_MIN_PORT,
      maxPort: e.RTC_MAX_PORT,
      workers,
      publishGraceMs: e.PUBLISH_GRACE_MS,
    },
    sfu: {
      viewersPerChannel: e.SFU_VIEWERS_PER_CHANNEL,
      // the pool has at least two workers; each forwards about one channel's worth of viewers
      maxViewers: e.SFU_MAX_VIEWERS ?? Math.max(2, workers) * e.SFU_VIEWERS_PER_CHANNEL,
      numberingsPerChannel: e.SFU_NUMBERINGS_PER_CHANNEL ?? e.SFU_EDGE_ROUTERS_PER_CHANNEL ?? 4,
      whepOffersPerMinute: e.WHEP_OFFERS_PER_MINUTE,
      whepSessionsPerAddress: e.WHEP_SESSIONS_PER_ADDRESS,
      whipAuthFailuresPerMinute: e.WHIP_AUTH_FAILURES_PER_MINUTE,
    },
    recorder: { embedded: e.RECORDER_EMBEDDED === 'true', rtpHost: e.RECORDER_RTP_HOST },
    sfuUrl: e.SFU_URL?.replace(/\/+$/, ''),
    sfuDiscovery: e.SFU_DISCOVERY,
    sfuNode: { id: e.SFU_NODE_ID, url: e.SFU_NODE_URL?.replace(/\/+$/, ''), drainGraceMs: e.SFU_DRAIN_GRACE_MS, edgePull: e.SFU_EDGE_PULL === 'true' },
    chat: {
      userMessages: e.CHAT_USER_MESSAGES,
      addressMessages: e.CHAT_ADDRESS_MESSAGES,
      windowSeconds: e.CHAT_LIMIT_WINDOW_SECONDS,
      batchMs: e.CHAT_BATCH_MS,
      addressJoins: e.CHAT_ADDRESS_JOINS,
      connectionsPerAddress: e.CHAT_CONNECTIONS_PER_ADDRESS,
      connectionsTotal: e.CHAT_CONNECTIONS_TOTAL,
      socketPacketsPerSecond: e.CHAT_SOCKET_PACKETS_PER_SECOND,
    },
    jobs: { pollMs: e.JOBS_POLL_MS },
    transcode: { inApi: e.TRANSCODE_IN_API === 'true', nice: e.TRANSCODE_NICE, stallSeconds: e.TRANSCODE_STALL_SECONDS, pastBroadcasts: e.TRANSCODE_PAST_BROADCASTS === 'true' },
    limits: {
      authAttempts: e.AUTH_ATTEMPTS,
      authWindowSeconds: e.AUTH_ATTEMPTS_WINDOW_SECONDS,
      signUpsPerAddressHour: e.SIGNUPS_PER_ADDRESS_HOUR,
      signUpsPerHour: e.SIGNUPS_PER_HOUR,
      channelsPerUserHour: e.CHANNELS_PER_USER_HOUR,
      streamKeysPerUserHour: e.STREAM_KEYS_PER_USER_HOUR,
      followsPerUserMinute: e.FOLLOWS_PER_USER_MINUTE,
      searchesPerAddressSecond: e.SEARCHES_PER_ADDRESS_SECOND,
      searchConcurrency: e.SEARCH_CONCURRENCY,
    },
    firstUserAdmin: e.FIRST_USER_ADMIN === 'true',
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM ?? `Glint <no-reply@${new URL(publicUrl).hostname}>`, requireVerification: e.REQUIRE_EMAIL_VERIFICATION === 'true' },
    webhooks: { maxAttempts: e.WEBHOOK_MAX_ATTEMPTS, retryMs: e.WEBHOOK_RETRY_MS, timeoutMs: e.WEBHOOK_TIMEOUT_MS, allowPrivate: e.WEBHOOK_ALLOW_PRIVATE === 'true' },
    rtmp:
      e.RTMP_ENABLED === 'true'
        ? {
            host: e.RTMP_HOST ?? e.HOST,
            port: e.RTMP_PORT,
            publicUrl: e.RTMP_PUBLIC_URL,
            maxConnections: e.RTMP_MAX_CONNECTIONS,
            maxConnectionsPerAddress: e.RTMP_MAX_CONNECTIONS_PER_ADDRESS,
            keyFailuresPerMinute: e.RTMP_KEY_FAILURES_PER_MINUTE,
            handshakeTimeoutMs: e.RTMP_HANDSHAKE_TIMEOUT_MS,
            maxMessageBytes: e.RTMP_MAX_MESSAGE_BYTES,
          }
        : undefined,
    media: {
      publicUrl: e.MEDIA_PUBLIC_URL?.replace(/\/+$/, ''),
      signingKeys: e.MEDIA_SIGNING_KEYS ? parseMediaKeys(e.MEDIA_SIGNING_KEYS) : undefined,
      tokenTtlSeconds: e.MEDIA_TOKEN_TTL_SECONDS,
    },
    uploads: {
      dir: joinPath(dataDir, 'uploads'),
      chunkBytes: e.UPLOAD_CHUNK_BYTES,
      maxFileBytes: e.UPLOAD_MAX_FILE_BYTES,
      quotaBytes: e.UPLOAD_QUOTA_BYTES,
      dailyQuotaBytes: e.UPLOAD_DAILY_QUOTA_BYTES,
      maxDurationSeconds: e.UPLOAD_MAX_DURATION_SECONDS,
      expireMs: Math.round(e.UPLOAD_EXPIRE_HOURS * 3_600_000),
      requestsPerAddressMinute: e.UPLOAD_REQUESTS_PER_ADDRESS_MINUTE,
      perAddress: e.UPLOADS_PER_ADDRESS,
      total: e.UPLOADS_TOTAL,
    },
    readCache: { ttlMs: Math.round(e.READ_CACHE_TTL_SECONDS * 1000), maxEntries: e.READ_CACHE_ENTRIES },
    meili: e.MEILI_URL ? { url: e.MEILI_URL, apiKey: e.MEILI_API_KEY || undefined, index: e.MEILI_INDEX } : undefined,
    s3: e.S3_ENDPOINT
      ? { endpoint: e.S3_ENDPOINT, bucket: e.S3_BUCKET, accessKey: e.S3_ACCESS_KEY!, secretKey: e.S3_SECRET_KEY!, region: e.S3_REGION, publicUrl: s3PublicUrl(e.S3_ENDPOINT, e.S3_PUBLIC_URL) }
      : undefined,
  };
}

/**
 * For a process's entry point: the configuration, or the reasons it is invalid on stderr and exit code 2. `check`
 * adds what one service needs beyond the schema (throw a ConfigError).
 */
export function loadConfigOrExit(check?: (config: Config) => void): Config {
  try {
    const config = loadConfig();
    check?.(config);
    return config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return exit(2);
  }
}
