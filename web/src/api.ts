// Typed fetch wrapper for Glint's API: JSON in and out, errors (problem+json, with better-auth's {message, code})
// turned into an ApiError with a human message and per-field messages.

export type Role = 'admin' | 'moderator' | 'user';

export type User = { id: string; name: string; email: string; role: Role; createdAt: string };

export type Channel = {
  id: string;
  slug: string;
  title: string;
  description: string;
  category: string;
  tags: string[];
  avatarUrl: string | null;
  /** the current broadcast, or null when offline */
  live?: { sessionId: string; source: 'whip' | 'rtmp'; startedAt: string; viewers: number; previewUrl: string } | null;
  owner: { id: string; name: string };
  followers: number;
  subscribersOnlyLive: boolean;
  subscribersOnlyVods: boolean;
  createdAt: string;
  updatedAt: string;
};

export type FollowState = { following: boolean; followers: number };
export type Notification = { id: string; kind: 'channel.live'; channel: { slug: string; title: string } | null; liveSessionId: string | null; createdAt: string; read: boolean };
export type Inbox = { items: Notification[]; unread: number; next: string | null };
export type Tier = { id: string; name: string; priceCents: number; currency: string; perks: string; archived: boolean };
export const WEBHOOK_EVENTS = ['channel.live', 'channel.offline', 'vod.ready'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
export type Webhook = { id: string; url: string; events: WebhookEvent[]; active: boolean; secretPrefix: string; createdAt: string };
export type WebhookDelivery = { id: string; event: string; status: 'pending' | 'delivered' | 'failed'; attempts: number; responseStatus: number | null; lastError: string | null; createdAt: string; deliveredAt: string | null };
export type Subscription = {
  id: string;
  channel: { slug: string; title: string };
  user: { id: string; name: string };
  tier: { id: string; name: string };
  provider: string;
  startsAt: string;
  endsAt: string | null;
  canceledAt: string | null;
  active: boolean;
};

export type ChannelPage = { items: Channel[]; total: number; limit: number; offset: number };

export type StreamKey = { id: string; label: string; prefix: string; createdAt: string; lastUsedAt: string | null };
export type NewStreamKey = StreamKey & { key: string };

export type ChannelInput = { slug: string; title: string; description: string; category: string; tags: string[]; subscribersOnlyLive?: boolean; subscribersOnlyVods?: boolean };

/** Mirrors the API's slug rule. */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{1,30}[a-z0-9])$/;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
export const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
export const AVATAR_MAX_BYTES = 2 * 1024 * 1024;

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    /** Messages per field name (e.g. "slug", "tags"), for inline form errors. */
    readonly fields: Record<string, string> = {},
    readonly code?: string,
  ) {
    super(message);
  }
}

/** better-auth error codes that belong to one form field. */
const AUTH_CODE_FIELDS: Record<string, string> = {
  INVALID_EMAIL: 'email',
  USER_ALREADY_EXISTS: 'email',
  USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL: 'email',
  PASSWORD_TOO_SHORT: 'password',
  PASSWORD_TOO_LONG: 'password',
  INVALID_PASSWORD: 'password',
};

const AUTH_CODE_MESSAGES: Record<string, string> = {
  USER_ALREADY_EXISTS: 'An account with this email already exists.',
  USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL: 'An account with this email already exists.',
  INVALID_EMAIL_OR_PASSWORD: 'Wrong email or password.',
  PASSWORD_TOO_SHORT: `Use at least ${PASSWORD_MIN} characters.`,
  PASSWORD_TOO_LONG: `Use at most ${PASSWORD_MAX} characters.`,
  INVALID_EMAIL: 'Enter a valid email address.',
};

type ProblemBody = { title?: string; status?: number; detail?: string; errors?: { path: string; message: string }[] };
type AuthErrorBody = { message?: string; code?: string };

const sentence = (s: string) => {
  const t = s.trim();
  return t ? t[0]!.toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.') : t;
};

function fallbackMessage(status: number): string {
  if (status === 401) return 'Sign in to do this.';
  if (status === 403) return 'You are not allowed to do this.';
  if (status === 404) return 'Not found.';
  if (status === 413) return 'That is too large.';
  if (status === 429) return 'Too many requests; wait a moment and try again.';
  if (status >= 500) return 'Something went wrong on the server; try again.';
  return `The request failed (HTTP ${status}).`;
}

async function toError(res: Response): Promise<ApiError> {
  const type = res.headers.get('content-type') ?? '';
  let body: unknown = null;
  if (type.includes('json')) body = await res.json().catch(() => null);
  if (body && typeof body === 'object') {
    const a = body as AuthErrorBody;
    // better-auth's errors (problem+json from the API, with its code and message kept as members) name a code
    if (typeof a.code === 'string' || (!type.includes('application/problem+json') && !('detail' in body) && typeof a.message === 'string')) {
      const code = a.code;
      // better-auth's own validation: "[body.email] Invalid email address"
      const validation = /^\[body\.(\w+)\]\s*(.*)$/.exec(a.message ?? '');
      if (validation) {
        const message = sentence(validation[2] || 'Invalid value');
        return new ApiError(message, res.status, { [validation[1]!]: message }, code);
      }
      const message = (code && AUTH_CODE_MESSAGES[code]) || sentence(a.message ?? '') || fallbackMessage(res.status);
      const field = code ? AUTH_CODE_FIELDS[code] : undefined;
      return new ApiError(message, res.status, field ? { [field]: message } : {}, code);
    }
    if (type.includes('application/problem+json') || 'detail' in body) {
      const p = body as ProblemBody;
      const fields: Record<string, string> = {};
      for (const e of p.errors ?? []) {
        // "json.tags.0" → "tags"; "query.q" → "q"
        const name = e.path.replace(/^(json|query|param|form|header|cookie)\./, '').split('.')[0] || '_';
        fields[name] ??= sentence(e.message);
      }
      return new ApiError(sentence(p.detail || p.title || fallbackMessage(res.status)), res.status, fields);
    }
  }
  return new ApiError(fallbackMessage(res.status), res.status);
}

type RequestOptions = { json?: unknown; body?: BodyInit; contentType?: string; signal?: AbortSignal };

/** Calls the API; resolves with the parsed JSON (undefined for 204) or rejects with an ApiError. */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
  let body: BodyInit | undefined = opts.body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.contentType) {
    headers['Content-Type'] = opts.contentType;
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin', signal: opts.signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError('Could not reach the server; check your connection and try again.', 0);
  }
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : undefined) as T;
}

/** Query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

export type ReplayMessage = { id: string; author: { id: string; name: string }; text: string; sentAt: string; offsetMs: number | null };

export type Vod = {
  id: string;
  channel: { id: string; slug: string; ownerId: string };
  liveSessionId: string | null;
  title: string;
  status: 'recording' | 'ready' | 'failed';
  startedAt: string;
  endedAt: string | null;
  durationSeconds: number | null;
  sizeBytes: number;
  codecs: string[];
  playlistUrl: string;
  posterUrl: string | null;
};

export type SearchKind = 'channel' | 'live' | 'vod';
export type SearchHit = {
  kind: SearchKind;
  id: string;
  channel: { id: string; slug: string; title: string };
  title: string;
  description: string;
  category: string;
  tags: string[];
  live: boolean;
  date: string;
  score: number;
};
export type SearchPage = { items: SearchHit[]; total: number; limit: number; offset: number };
export type SearchParams = { q?: string; type?: SearchKind; live?: 'true' | 'false'; category?: string; from?: string; to?: string; limit?: number; offset?: number };
export type Category = { name: string; channels: number; live: number };

/** Where a search hit leads: the channel page, or the VoD's. */
export const hitHref = (h: SearchHit) => (h.kind === 'vod' ? `/v/${h.id}` : `/c/${h.channel.slug}`);

export const api = {
  vods: (slug: string, signal?: AbortSignal) => request<{ items: Vod[] }>('GET', `/api/channels/${enc(slug)}/vods`, { signal }),
  vod: (id: string, signal?: AbortSignal) => request<Vod>('GET', `/api/vods/${enc(id)}`, { signal }),
  deleteVod: (id: string) => request<void>('DELETE', `/api/vods/${enc(id)}`),
  vodChat: (id: string, signal?: AbortSignal) => request<{ items: ReplayMessage[] }>('GET', `/api/vods/${enc(id)}/chat`, { signal }),
  /** Where broadcasts are sent: the WHIP URL template and the RTMP server URL (null when RTMP ingest is off). */
  ingest: () => request<{ whip: string; rtmp: string | null }>('GET', '/api/ingest'),
  /** The signed-in user, or null (better-auth's get-session answers 200 either way, so signed-out visits log no error). */
  me: async () => (await request<{ user: User } | null>('GET', '/api/auth/get-session'))?.user ?? null,
  signIn: (email: string, password: string) => request<unknown>('POST', '/api/auth/sign-in/email', { json: { email, password } }),
  signUp: (name: string, email: string, password: string) =>
    request<unknown>('POST', '/api/auth/sign-up/email', { json: { name, email, password } }),
  signOut: () => request<unknown>('POST', '/api/auth/sign-out', { json: {} }),

  channels: (params: { q?: string; category?: string; tag?: string; owner?: string; limit?: number; offset?: number }, signal?: AbortSignal) =>
    request<ChannelPage>('GET', `/api/channels${query(params)}`, { signal }),
  channel: (slug: string, signal?: AbortSignal) => request<Channel>('GET', `/api/channels/${enc(slug)}`, { signal }),
  search: (params: SearchParams, signal?: AbortSignal) => request<SearchPage>('GET', `/api/search${query(params)}`, { signal }),
  categories: (signal?: AbortSignal) => request<{ items: Category[] }>('GET', '/api/categories', { signal }),
  createChannel: (input: ChannelInput) => request<Channel>('POST', '/api/channels', { json: input }),
  updateChannel: (slug: string, patch: Partial<ChannelInput>) => request<Channel>('PATCH', `/api/channels/${enc(slug)}`, { json: patch }),
  deleteChannel: (slug: string) => request<void>('DELETE', `/api/channels/${enc(slug)}`),
  uploadAvatar: (slug: string, file: Blob) =>
    request<Channel>('PUT', `/api/channels/${enc(slug)}/avatar`, { body: file, contentType: file.type }),
  removeAvatar: (slug: string) => request<void>('DELETE', `/api/channels/${enc(slug)}/avatar`),

  streamKeys: (slug: string) => request<StreamKey[]>('GET', `/api/channels/${enc(slug)}/stream-keys`),
  createStreamKey: (slug: string, label: string) =>
    request<NewStreamKey>('POST', `/api/channels/${enc(slug)}/stream-keys`, { json: label ? { label } : {} }),
  rotateStreamKey: (slug: string, id: string) =>
    request<NewStreamKey>('POST', `/api/channels/${enc(slug)}/stream-keys/${enc(id)}/rotate`),
  revokeStreamKey: (slug: string, id: string) => request<void>('DELETE', `/api/channels/${enc(slug)}/stream-keys/${enc(id)}`),

  followState: (slug: string, signal?: AbortSignal) => request<FollowState>('GET', `/api/channels/${enc(slug)}/follow`, { signal }),
  follow: (slug: string) => request<FollowState>('PUT', `/api/channels/${enc(slug)}/follow`),
  unfollow: (slug: string) => request<FollowState>('DELETE', `/api/channels/${enc(slug)}/follow`),
  following: (signal?: AbortSignal) => request<ChannelPage & { items: (Channel & { followedAt: string })[] }>('GET', '/api/me/following?limit=100', { signal }),
  notifications: (before?: string) => request<Inbox>('GET', `/api/me/notifications${query({ limit: 20, before })}`),
  readNotification: (id: string) => request<{ unread: number }>('POST', `/api/me/notifications/${enc(id)}/read`),
  readAllNotifications: () => request<{ marked: number; unread: number }>('POST', '/api/me/notifications/read-all'),
  tiers: (slug: string, signal?: AbortSignal) => request<Tier[]>('GET', `/api/channels/${enc(slug)}/tiers`, { signal }),
  followers: (slug: string) => request<{ items: { id: string; name: string; followedAt: string }[]; total: number }>('GET', `/api/channels/${enc(slug)}/followers?limit=500`),
  createTier: (slug: string, t: { name: string; priceCents: number; currency: string; perks: string }) => request<Tier>('POST', `/api/channels/${enc(slug)}/tiers`, { json: t }),
  archiveTier: (slug: string, id: string) => request<void>('DELETE', `/api/channels/${enc(slug)}/tiers/${enc(id)}`),
  subscriptions: (slug: string) => request<Subscription[]>('GET', `/api/channels/${enc(slug)}/subscriptions`),
  grant: (slug: string, g: { userId: string; tierId: string; endsAt: string | null }) => request<Subscription>('POST', `/api/channels/${enc(slug)}/subscriptions`, { json: g }),
  cancelSubscription: (slug: string, id: string) => request<Subscription>('DELETE', `/api/channels/${enc(slug)}/subscriptions/${enc(id)}`),
  webhooks: (slug: string) => request<Webhook[]>('GET', `/api/channels/${enc(slug)}/webhooks`),
  createWebhook: (slug: string, w: { url: string; events: WebhookEvent[] }) => request<Webhook & { secret: string }>('POST', `/api/channels/${enc(slug)}/webhooks`, { json: w }),
  updateWebhook: (slug: string, id: string, patch: { active?: boolean }) => request<Webhook>('PATCH', `/api/channels/${enc(slug)}/webhooks/${enc(id)}`, { json: patch }),
  deleteWebhook: (slug: string, id: string) => request<void>('DELETE', `/api/channels/${enc(slug)}/webhooks/${enc(id)}`),
  deliveries: (slug: string, id: string) => request<WebhookDelivery[]>('GET', `/api/channels/${enc(slug)}/webhooks/${enc(id)}/deliveries?limit=10`),
  mySubscription: (slug: string, signal?: AbortSignal) => request<{ subscribed: boolean; subscription: Subscription | null }>('GET', `/api/channels/${enc(slug)}/subscription`, { signal }),
};
