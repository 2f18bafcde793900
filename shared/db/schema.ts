// Drizzle schema: the single source for migrations in sql/ (drizzle-kit generate) and for typed queries.
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, customType, index, integer, jsonb, pgTable, primaryKey, real, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const ROLES = ['admin', 'moderator', 'user'] as const;
export type Role = (typeof ROLES)[number];

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () =>
  timestamp('updated_at', { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

// --- better-auth's tables (user, session, account, verification), with Glint's role on user ---

export const user = pgTable('user', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  email: text('email').notNull().unique(),
  emailVerified: boolean('email_verified').notNull().default(false),
  image: text('image'),
  role: text('role', { enum: ROLES }).notNull().default('user'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const session = pgTable(
  'session',
  {
    id: text('id').primaryKey(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    token: text('token').notNull().unique(),
    ipAddress: text('ip_address'),
    userAgent: text('user_agent'),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('session_user_id_idx').on(t.userId)],
);

export const account = pgTable(
  'account',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    providerId: text('provider_id').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    accessToken: text('access_token'),
    refreshToken: text('refresh_token'),
    idToken: text('id_token'),
    accessTokenExpiresAt: timestamp('access_token_expires_at', { withTimezone: true }),
    refreshTokenExpiresAt: timestamp('refresh_token_expires_at', { withTimezone: true }),
    scope: text('scope'),
    password: text('password'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('account_user_id_idx').on(t.userId)],
);

export const verification = pgTable(
  'verification',
  {
    id: text('id').primaryKey(),
    identifier: text('identifier').notNull(),
    value: text('value').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('verification_identifier_idx').on(t.identifier)],
);

// --- Glint ---

export const channel = pgTable(
  'channel',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    slug: text('slug').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    category: text('category').notNull().default(''),
    tags: text('tags')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** Object-store key of the avatar image, with its content type. */
    avatarKey: text('avatar_key'),
    avatarType: text('avatar_type'),
    /** Live streams (WHEP and the live HLS) for subscribers only. */
    subscribersOnlyLive: boolean('subscribers_only_live').notNull().default(false),
    /** New recordings start subscriber-only (each VoD can be changed after). */
    subscribersOnlyVods: boolean('subscribers_only_vods').notNull().default(false),
    /** The next broadcast's title and category (set in the studio): every broadcast starts with them, WHIP or RTMP. */
    nextTitle: text('next_title').notNull().default(''),
    nextCategory: text('next_category').notNull().default(''),
    /** Kept by triggers on `follow` (sql/0010), so showing it costs no count. */
    followerCount: integer('follower_count').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('channel_slug_idx').on(t.slug), index('channel_owner_idx').on(t.ownerId)],
);

/** Publishing credentials. Only a SHA-256 of the key is kept; the key itself is shown once. */
export const streamKey = pgTable(
  'stream_key',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channel.id, { onDelete: 'cascade' }),
    label: text('label').notNull().default('default'),
    /** First characters of the key, to let a person tell keys apart. */
    prefix: text('prefix').notNull(),
    hash: text('hash').notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('stream_key_hash_idx').on(t.hash), index('stream_key_channel_idx').on(t.channelId)],
);

/** One row per broadcast; ended_at is null while it is live (at most one such row per channel). */
export const liveSession = pgTable(
  'live_session',
  {
    id: uuid('id').primaryKey(),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channel.id, { onDelete: 'cascade' }),
    source: text('source', { enum: ['whip', 'rtmp'] }).notNull(),
    codecs: text('codecs')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    endReason: text('end_reason'),
    viewers: integer('viewers').notNull().default(0),
    peakViewers: integer('peak_viewers').notNull().default(0),
    /** This broadcast's own title and category (empty: none given); its recording is named after the title. */
    title: text('title').notNull().default(''),
    category: text('category').notNull().default(''),
  },
  (t) => [
    index('live_session_channel_idx').on(t.channelId, t.startedAt),
    uniqueIndex('live_session_one_live_idx').on(t.channelId).where(sql`${t.endedAt} is null`),
  ],
);

/**
 * A recording of one live session: HLS (playlist + segments + poster) under storage_prefix in the object store.
 * status: recording while live (an EVENT playlist, watchable from the start), ready once it has #EXT-X-ENDLIST,
 * failed when nothing playable was written.
 */
export const vod = pgTable(
  'vod',
  {
    id: uuid('id').primaryKey(),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channel.id, { onDelete: 'cascade' }),
    liveSessionId: uuid('live_session_id').references(() => liveSession.id, { onDelete: 'set null' }),
    title: text('title').notNull(),
    /** processing: an accepted upload none of whose renditions is watchable yet */
    status: text('status', { enum: ['recording', 'processing', 'ready', 'failed'] }).notNull().default('recording'),
    /** a past broadcast (recorded) or an uploaded file (api/uploads.ts) */
    source: text('source', { enum: ['broadcast', 'upload'] }).notNull().default('broadcast'),
    /** the tus upload this VoD was made from (source 'upload'); its bytes are the transcoder's input */
    uploadId: text('upload_id'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    durationMs: integer('duration_ms'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull().default(0),
    codecs: text('codecs')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    storagePrefix: text('storage_prefix').notNull(),
    posterKey: text('poster_key'),
    /** Why a recording ended `failed` (nothing recorded, too short to play), shown to the channel's owner only. */
    failureReason: text('failure_reason'),
    /** Only the channel's subscribers (and its owner, moderators of the site, admins) may watch it. */
    subscribersOnly: boolean('subscribers_only').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [index('vod_channel_idx').on(t.channelId, t.startedAt), index('vod_status_idx').on(t.status)],
);

/**
 * A resumable (tus) upload of a video file to a channel (api/uploads.ts); id is the tus id. Rows outlive their bytes:
 * a refused or expired one keeps its reason for the uploader's page.
 */
export const upload = pgTable(
  'upload',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channel.id, { onDelete: 'cascade' }),
    vodId: uuid('vod_id').references(() => vod.id, { onDelete: 'set null' }),
    filename: text('filename').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    status: text('status', { enum: ['uploading', 'probing', 'accepted', 'refused', 'expired'] }).notNull().default('uploading'),
    /** why a refused upload was refused, for the uploader */
    refusal: text('refusal'),
    createdAt: createdAt(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('upload_user_idx').on(t.userId, t.createdAt), index('upload_expiry_idx').on(t.expiresAt).where(sql`${t.status} = 'uploading'`)],
);

// chat rows belong to a channel and a user, and go with either
const channelRef = () =>
  uuid('channel_id')
    .notNull()
    .references(() => channel.id, { onDelete: 'cascade' });
const userRef = () =>
  text('user_id')
    .notNull()
    .references(() => user.id, { onDelete: 'cascade' });

/**
 * A chat message in a channel, kept for the history a joining viewer gets and for replay beside the VoD: live_session
 * and offset_ms (from that session's start) place it on the recording's timeline. A deleted message keeps its row
 * (deleted_at/deleted_by) and is never sent again.
 */
export const chatMessage = pgTable(
  'chat_message',
  {
    id: uuid('id').primaryKey(),
    channelId: channelRef(),
    liveSessionId: uuid('live_session_id').references(() => liveSession.id, { onDelete: 'set null' }),
    userId: userRef(),
    body: text('body').notNull(),
    offsetMs: integer('offset_ms'),
    createdAt: createdAt(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    deletedBy: text('deleted_by').references(() => user.id, { onDelete: 'set null' }),
  },
  (t) => [
    index('chat_message_channel_idx').on(t.channelId, t.createdAt),
    index('chat_message_session_idx').on(t.liveSessionId, t.offsetMs),
    // a user's last message in a channel (slow mode)
    index('chat_message_author_idx').on(t.channelId, t.userId, t.createdAt),
  ],
);

/** A channel's chat moderators, appointed by its owner (or an admin). */
export const chatModerator = pgTable(
  'chat_moderator',
  {
    channelId: channelRef(),
    userId: userRef(),
    appointedBy: text('appointed_by').references(() => user.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.userId] })],
);

/** Who may not chat in a channel: until a time (a timeout) or for good (until is null: a ban). */
export const chatBan = pgTable(
  'chat_ban',
  {
    channelId: channelRef(),
    userId: userRef(),
    until: timestamp('until', { withTimezone: true }),
    reason: text('reason').notNull().default(''),
    byUserId: text('by_user_id').references(() => user.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.userId] })],
);

/**
 * A channel's chat modes, set by its owner or moderators: slow mode (seconds between one user's messages) and a
 * minimum account age (the followers-only mode's stand-in until follows exist). No row: no mode on.
 */
export const chatSettings = pgTable('chat_settings', {
  channelId: uuid('channel_id')
    .primaryKey()
    .references(() => channel.id, { onDelete: 'cascade' }),
  slowSeconds: integer('slow_seconds').notNull().default(0),
  minAccountAgeMinutes: integer('min_account_age_minutes').notNull().default(0),
  /** Followers-only mode: null off, else how long (minutes) a user must have followed the channel; 0: any follower. */
  followersOnlyMinutes: integer('followers_only_minutes'),
  subscribersOnly: boolean('subscribers_only').notNull().default(false),
  /** Emote-only mode: every word of a message must be an emote (built-in or the channel's own). */
  emoteOnly: boolean('emote_only').notNull().default(false),
  updatedBy: text('updated_by').references(() => user.id, { onDelete: 'set null' }),
  updatedAt: updatedAt(),
});

/** A channel's own chat emote, uploaded by its owner: a code and its image in object storage. */
export const channelEmote = pgTable(
  'channel_emote',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    channelId: channelRef(),
    code: text('code').notNull(),
    key: text('key').notNull(),
    type: text('type').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('channel_emote_code_idx').on(t.channelId, t.code)],
);

/** A user follows a channel: its go-live notifications, the following page, followers-only chat. */
export const follow = pgTable(
  'follow',
  {
    userId: userRef(),
    channelId: channelRef(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.channelId] }), index('follow_channel_idx').on(t.channelId, t.userId)],
);

/** Where a signed-in viewer stopped watching a VoD (issue 17, the player's resume position; one row per user and VoD). */
export const watchPosition = pgTable(
  'watch_position',
  {
    userId: userRef(),
    vodId: uuid('vod_id')
      .notNull()
      .references(() => vod.id, { onDelete: 'cascade' }),
    positionSeconds: real('position_seconds').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.vodId] })],
);

/** A user's inbox entry (a followed channel went live, ...): kept until deleted, unread until read_at. */
export const notification = pgTable(
  'notification',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: userRef(),
    kind: text('kind', { enum: ['channel.live'] }).notNull(),
    channelId: uuid('channel_id').references(() => channel.id, { onDelete: 'cascade' }),
    liveSessionId: uuid('live_session_id').references(() => liveSession.id, { onDelete: 'set null' }),
    /** What the inbox shows without another lookup (channel slug and title, the stream's title, ...). */
    data: jsonb('data').notNull().default({}),
    createdAt: createdAt(),
    readAt: timestamp('read_at', { withTimezone: true }),
  },
  (t) => [
    index('notification_user_idx').on(t.userId, t.createdAt),
    // one per follower per broadcast: a retried fan-out batch does not notify twice
    uniqueIndex('notification_once_idx').on(t.userId, t.kind, t.liveSessionId),
  ],
);

/**
 * Durable background work (a go-live fan-out to every follower, ...): claimed with FOR UPDATE SKIP LOCKED by any API
 * process, so several can share it; cursor lets a large job go in batches and resume after a crash.
 */
export const job = pgTable(
  'job',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind').notNull(),
    /** what makes it one job (`notify.live:<session>`): every API process hears the same bus event, one enqueues */
    key: text('key').notNull(),
    payload: jsonb('payload').notNull(),
    cursor: text('cursor'),
    attempts: integer('attempts').notNull().default(0),
    runAt: timestamp('run_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: createdAt(),
    doneAt: timestamp('done_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('job_key_idx').on(t.key), index('job_due_idx').on(t.runAt).where(sql`${t.doneAt} is null`)],
);

// the event names are a rule both the API and the web client read (shared/bounds.ts)
export { WEBHOOK_EVENTS, type WebhookEvent } from '../bounds.ts';

/** A channel's outgoing webhook: events POSTed to url, signed with HMAC-SHA256 of the body under secret. */
export const webhook = pgTable(
  'webhook',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    channelId: channelRef(),
    url: text('url').notNull(),
    secret: text('secret').notNull(),
    events: text('events').array().notNull(),
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
  },
  (t) => [index('webhook_channel_idx').on(t.channelId)],
);

/** One event for one webhook: the queue of deliveries (retried with backoff) and their log. */
export const webhookDelivery = pgTable(
  'webhook_delivery',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhook.id, { onDelete: 'cascade' }),
    event: text('event').notNull(),
    payload: jsonb('payload').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    responseStatus: integer('response_status'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [index('webhook_delivery_webhook_idx').on(t.webhookId, t.createdAt), index('webhook_delivery_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`)],
);

/** A channel's subscription tiers. Archived tiers keep their subscriptions but take no new ones. */
export const subscriptionTier = pgTable(
  'subscription_tier',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    channelId: channelRef(),
    name: text('name').notNull(),
    /** per month, in the currency's minor unit */
    priceCents: integer('price_cents').notNull(),
    currency: text('currency').notNull().default('USD'),
    perks: text('perks').notNull().default(''),
    createdAt: createdAt(),
    archivedAt: timestamp('archived_at', { withTimezone: true }),
  },
  (t) => [index('subscription_tier_channel_idx').on(t.channelId)],
);

/**
 * A user's subscription to a channel at a tier, from a payment provider ('grant': given by the owner or an admin).
 * It entitles while starts_at <= now < ends_at (ends_at null: no end) and it is not canceled.
 */
export const subscription = pgTable(
  'subscription',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: userRef(),
    channelId: channelRef(),
    tierId: uuid('tier_id')
      .notNull()
      .references(() => subscriptionTier.id, { onDelete: 'restrict' }),
    provider: text('provider').notNull(),
    /** the provider's own id for it (a card processor's subscription id); unique per provider */
    providerRef: text('provider_ref'),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull().defaultNow(),
    endsAt: timestamp('ends_at', { withTimezone: true }),
    canceledAt: timestamp('canceled_at', { withTimezone: true }),
    grantedBy: text('granted_by').references(() => user.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [index('subscription_user_idx').on(t.userId, t.channelId), index('subscription_channel_idx').on(t.channelId), uniqueIndex('subscription_provider_ref_idx').on(t.provider, t.providerRef)],
);

// --- search ---

export const SEARCH_DOC_KINDS = ['channel', 'vod'] as const;
export type SearchDocKind = (typeof SEARCH_DOC_KINDS)[number];

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/**
 * What search finds: one document per channel (live or not) and per VoD, with the channel's fields copied onto its
 * VoDs. Written only by the triggers in sql/0006_search.sql, in the same transaction as the channel, live_session or
 * vod write, so it is never behind the tables; PostgresSearch queries it directly, and it is what the sync worker
 * sends to Meilisearch.
 */
export const searchDoc = pgTable(
  'search_doc',
  {
    kind: text('kind', { enum: SEARCH_DOC_KINDS }).notNull(),
    /** the channel's or the VoD's id */
    refId: uuid('ref_id').notNull(),
    channelId: uuid('channel_id').notNull(),
    channelSlug: text('channel_slug').notNull(),
    channelTitle: text('channel_title').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull(),
    category: text('category').notNull(),
    tags: text('tags').array().notNull(),
    /** category and tags as one string (the trigger joins them; a generated column may not) */
    keywords: text('keywords').notNull(),
    /** title, slug, category and tags in one string (the source of search_word with the description) */
    names: text('names')
      .notNull()
      .generatedAlwaysAs(sql`"title" || ' ' || "channel_slug" || ' ' || "keywords"`),
    /** a channel broadcasting now; a VoD still recording */
    live: boolean('live').notNull(),
    /** a channel: when its broadcast started, else when it was created; a VoD: when its broadcast started */
    date: timestamp('date', { withTimezone: true }).notNull(),
    /**
     * Every searchable word (A the title and a channel's slug, B category and tags, C the channel's description, D a
     * VoD's channel title and slug): what counts as a match at all, and the tier for words spread over several parts
     */
    tsv: tsvector('tsv')
      .notNull()
      .generatedAlwaysAs(
        sql`setweight(to_tsvector('english', "title" || CASE WHEN "kind" = 'channel' THEN ' ' || replace("channel_slug", '-', ' ') ELSE '' END), 'A') || setweight(to_tsvector('english', "keywords"), 'B') || setweight(to_tsvector('english', "description"), 'C') || setweight(to_tsvector('english', CASE WHEN "kind" = 'vod' THEN "channel_title" || ' ' || replace("channel_slug", '-', ' ') ELSE '' END), 'D')`,
      ),
    // Each part on its own, for PostgresSearch's tiers: title matches, then category and tag matches, then the rest.
    // Separate columns (not "tsv but not the title") keep the planner's estimates right for every tier.
    tsvTitle: tsvector('tsv_title')
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('english', "title" || CASE WHEN "kind" = 'channel' THEN ' ' || replace("channel_slug", '-', ' ') ELSE '' END)`),
    tsvKeywords: tsvector('tsv_keywords').notNull().generatedAlwaysAs(sql`to_tsvector('english', "keywords")`),
    tsvRest: tsvector('tsv_rest')
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('english', "description" || CASE WHEN "kind" = 'vod' THEN ' ' || "channel_title" || ' ' || replace("channel_slug", '-', ' ') ELSE '' END)`),
  },
  (t) => [
    primaryKey({ columns: [t.kind, t.refId] }),
    index('search_doc_tsv_idx').using('gin', t.tsv),
    index('search_doc_title_idx').using('gin', t.tsvTitle),
    // an exact title, the first hit of a one-word query
    index('search_doc_exact_title_idx').on(sql`lower(${t.title})`),
    index('search_doc_keywords_idx').using('gin', t.tsvKeywords),
    index('search_doc_rest_idx').using('gin', t.tsvRest),
    index('search_doc_channel_idx').on(t.channelId),
    // browsing without words: a category's documents, or all, live first then newest, straight from the index
    index('search_doc_category_idx').on(sql`lower(${t.category})`, t.kind, t.live.desc(), t.date.desc(), t.refId),
    index('search_doc_recent_idx').on(t.live.desc(), t.date.desc(), t.refId),
  ],
);

/**
 * Every word of every document (kept by a trigger on search_doc, never pruned: a stale word only widens a query to a
 * word without hits; `npm run reindex` rebuilds it). Typo tolerance looks up a query word's near spellings here by
 * trigram similarity — a few thousand distinct words instead of every document — and searches for those too.
 */
export const searchWord = pgTable('search_word', { word: text('word').primaryKey() }, (t) => [index('search_word_trgm_idx').using('gin', t.word.op('gin_trgm_ops'))]);

/**
 * Documents changed since the search index last saw them, written by the same triggers: the sync worker sends each
 * one's current state (or its removal) to the index and deletes the row, so nothing is lost when the index is down.
 */
export const searchOutbox = pgTable('search_outbox', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  kind: text('kind', { enum: SEARCH_DOC_KINDS }).notNull(),
  refId: uuid('ref_id').notNull(),
  createdAt: createdAt(),
});

/**
 * Mail kept instead of sent, on embedded defaults (no SMTP_URL): password resets and verification links an admin
 * reads at /admin/outbox and hands on. With SMTP configured nothing is written here.
 */
export const mailOutbox = pgTable(
  'mail_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    to: text('to').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('mail_outbox_created_at_idx').on(t.createdAt)],
);

export const schema = {
  user,
  session,
  account,
  verification,
  channel,
  streamKey,
  liveSession,
  vod,
  upload,
  chatMessage,
  chatModerator,
  chatBan,
  chatSettings,
  channelEmote,
  follow,
  notification,
  job,
  webhook,
  webhookDelivery,
  subscriptionTier,
  subscription,
  searchDoc,
  searchWord,
  searchOutbox,
  mailOutbox,
  watchPosition,
};
export type Schema = typeof schema;
