// The bounds, patterns and names that both the API and the web client enforce: what people may type (passwords,
// names, channel fields), what a webhook may subscribe to, how long a chat message is. Plain values, no zod, so the
// browser bundle imports this file (shared/rules.ts, which the API reads, re-exports it beside its zod schemas).

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
/** a user's display name, in characters (code points) after trimming */
export const NAME_MAX = 80;
/** the longest address SMTP carries (RFC 5321) */
export const EMAIL_MAX = 254;
/** a profile image is a link, never inline data */
export const IMAGE_URL_MAX = 2048;

// --- channels: the API's schemas (api/routes/channels.ts) and the web's form (web/src/channel-rules.ts) both read these

/** A channel's slug, its URL name: 3–32 lowercase letters, digits and inner hyphens. */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{1,30}[a-z0-9])$/;
export const SLUG_MIN = 3;
export const SLUG_MAX = 32;
/** Longest channel fields, in characters; `tags` is how many tags, `tag` the longest one. */
export const CHANNEL_LIMITS = { title: 120, description: 2000, category: 50, tags: 10, tag: 25 } as const;
/** Longest stream key label, in characters. */
export const STREAM_KEY_LABEL_MAX = 40;
/** Longest subscription tier fields, in characters. */
export const TIER_LIMITS = { name: 50, perks: 2000 } as const;
/** Longest search (and channel list filter) text, in characters. */
export const SEARCH_QUERY_MAX = 100;

// --- webhooks

/** What a channel's webhook may subscribe to (stored as text in webhook.events; shared/db/schema.ts re-exports it). */
export const WEBHOOK_EVENTS = ['channel.live', 'channel.offline', 'vod.ready'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

// --- chat

/** Longest chat message, in characters (Twitch's limit). */
export const MAX_MESSAGE_CHARS = 500;

// --- avatars

/** The image types an avatar may be (each checked against the file's own header, api/images.ts). */
export const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
/** MAX_UPLOAD_BYTES's default (shared/config.ts): the largest avatar the web page lets through before uploading. */
export const DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024;
