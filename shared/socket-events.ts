// The Socket.IO contract between the API (api/chat.ts, api/notifications.ts) and the browser (web/src/socket.ts and
// the components on it): every event's name and payload, typed once so neither side can send what the other does not
// expect. The server validates every payload again with zod (a client is a stranger); these types are the shapes.

import type { Rendition } from './vod-ladder.ts';
import type { Emote } from './emotes.ts';

// --- chat (issue 16: badges, emotes, moderation in the page) ---
/** A badge beside a name: the channel's owner, one of its moderators, or one of its subscribers. */
export type ChatBadge = 'owner' | 'moderator' | 'subscriber';
export type ChatUserRef = { id: string; name: string };
/** A ban (until null) or a running timeout, as the banned list shows it. */
export type ChatBanView = { user: ChatUserRef; by: ChatUserRef | null; until: string | null; reason: string; since: string };

/** A chat message as rooms and joins carry it. */
export type ChatMessage = {
  id: string;
  channel: string;
  /** who sent it, with their standing in the channel at the time (the server sends it: clients need no lookups) */
  author: { id: string; name: string; badges: ChatBadge[] };
  text: string;
  sentAt: string;
  /** ms since the start of the live session it was sent in (null when the channel was offline) */
  offsetMs: number | null;
};

export type ChatRefusal = {
  code:
    | 'unauthorized'
    | 'forbidden'
    | 'not-found'
    | 'invalid'
    | 'rate-limited'
    | 'not-joined'
    | 'banned'
    | 'timed-out'
    | 'slow-mode'
    | 'account-too-new'
    | 'followers-only'
    | 'subscribers-only'
    | 'emote-only'
    | 'too-many-rooms'
    /** the database cannot be reached: nothing was stored; try again in retryAfterMs */
    | 'unavailable';
  message: string;
  retryAfterMs?: number;
};

/**
 * A moderation action. The channel's room hears what happened (so clients hide a banned user's messages); which
 * moderator did it (`by`) goes to the channel's moderators only, as on Twitch, so viewers cannot single them out.
 */
export type ModerationEvent = { channel: string; action: 'timeout' | 'ban' | 'unban' | 'mod' | 'unmod'; userId: string; until: string | null; by?: string };

/** A channel's chat modes (0: off). Moderators, the owner and admins are exempt from them. */
/** followersOnlyMinutes: null off, else how long one must have followed (0: any follower). */
/** emoteOnly: every word of a message must be an emote (built-in or the channel's). */
export type ChatModes = { slowSeconds: number; minAccountAgeMinutes: number; followersOnlyMinutes: number | null; subscribersOnly: boolean; emoteOnly: boolean };

/** What a user is in a channel's chat, as a join tells the client (null: not signed in). */
export type ChatRank = 'viewer' | 'moderator' | 'owner' | 'admin';

/** A notification as the inbox lists it (GET /api/me/notifications) and the user's room receives it. */
export type NotificationView = {
  id: string;
  kind: 'channel.live' | 'vod.ready';
  /** vod.ready: the video whose whole ladder is ready */
  vod?: { id: string; title: string };
  /** the channel, and the broadcast's own title when it has one */
  channel: { slug: string; title: string; broadcast?: string } | null;
  liveSessionId: string | null;
  createdAt: string;
  read: boolean;
};

/** Every acknowledgement: the result, or why it was refused (the same refusal also arrives as a `refused` event). */
export type ChatReply<T> = ({ ok: true } & T) | { ok: false; error: ChatRefusal };
export type Ack<T> = (reply: ChatReply<T>) => void;

// --- live state: what a page shows about channels (live or not, viewers, the recording), pushed as it changes ---

/** A broadcast in progress as pages show it (the same fields as the Channel's `live` of the HTTP API). */
export type LiveNow = { sessionId: string; source: 'whip' | 'rtmp'; startedAt: string; viewers: number; title: string; category: string; previewUrl: string };
/** A watched channel's state now, as a `watch` acknowledges it (a page's fetch may be older than its subscription). */
export type LiveSnapshot = { slug: string; title: string; live: LiveNow | null };
/** What a `watch` names: the channels a page shows (replacing the socket's earlier list), and whether it wants to
 * hear every channel go live or offline (pages that count live channels: categories). */
export type WatchRequest = { channels: string[]; directory?: boolean };

/** emotes: the channel's own (the built-in set is in shared/emotes.ts) */
export type JoinResult = { channel: string; you: ChatRank | null; modes: ChatModes; history: ChatMessage[]; emotes: Emote[] };
type Target = { channel: string; userId: string; reason?: string };
type Moderated = { event: ModerationEvent };

/** What the browser sends; each event is acknowledged (emitWithAck). */
export interface ClientToServerEvents {
  join(payload: { channel: string }, ack: Ack<JoinResult>): void;
  leave(payload: { channel: string }, ack: Ack<object>): void;
  send(payload: { channel: string; text: string }, ack: Ack<{ message: ChatMessage }>): void;
  modes(payload: { channel: string } & Partial<ChatModes>, ack: Ack<{ modes: ChatModes }>): void;
  delete(payload: { channel: string; id: string }, ack: Ack<object>): void;
  timeout(payload: Target & { seconds: number }, ack: Ack<Moderated>): void;
  ban(payload: Target, ack: Ack<Moderated>): void;
  unban(payload: Target, ack: Ack<Moderated>): void;
  mod(payload: Target, ack: Ack<Moderated>): void;
  unmod(payload: Target, ack: Ack<Moderated>): void;
  /** the one VoD whose transcode progress this socket hears (`vod:progress`), with how it is now; null stops */
  'vod:watch'(payload: { vodId: string | null }, ack: Ack<{ vod: VodProgress | null }>): void;
  /** the channels whose live state this socket hears (the whole list each time; [] stops) */
  watch(payload: WatchRequest, ack: Ack<{ channels: LiveSnapshot[] }>): void;
  // --- chat moderation in the page (issue 16) ---
  /** the channel's bans and running timeouts (its moderators) */
  bans(payload: { channel: string }, ack: Ack<{ bans: ChatBanView[] }>): void;
  /** the channel's moderators (its moderators) */
  moderators(payload: { channel: string }, ack: Ack<{ moderators: ChatUserRef[] }>): void;
  /** appoints a moderator by their name, as the owner types it (the owner) */
  modByName(payload: { channel: string; name: string }, ack: Ack<Moderated & { user: ChatUserRef }>): void;
}

/** What the server pushes: to a channel's room, its moderators' room, or a user's own room (every tab they have open). */
export interface ServerToClientEvents {
  /** new messages of a joined channel, batched */
  messages(batch: ChatMessage[]): void;
  deleted(d: { channel: string; id: string }): void;
  /** the channel's modes changed (`by` for its moderators only) */
  modes(m: ChatModes & { channel: string; by?: string }): void;
  moderation(e: ModerationEvent): void;
  /** an event of this socket was refused (its acknowledgement says so too) */
  refused(r: ChatRefusal): void;
  /** a followed channel went live (the user's room) */
  notification(n: NotificationView): void;
  /** a watched channel (or, with `directory`, any channel) went live */
  'channel:live'(e: { slug: string; title: string; live: LiveNow }): void;
  /** a watched channel's broadcast ended; `vodId` is its recording (null: none), playable once `vod:ready` says so */
  'channel:offline'(e: { slug: string; vodId: string | null }): void;
  /** how many watch a watched channel's broadcast, at most once a second per channel */
  'channel:viewers'(e: { slug: string; count: number }): void;
  /** a watched channel's recording became playable */
  'vod:ready'(e: { slug: string; vodId: string; title: string }): void;
  /** the watched VoD's transcode moved on (a rendition started, progressed — at most once a second —, finished) */
  'vod:progress'(e: VodProgress): void;
}

/** A VoD's transcode as a page shows it: its status and each rendition's (shared/vod-ladder.ts). */
/** One rendition as a page sees it (the encoder's settings stay server-side). */
export type VodRenditionProgress = Pick<Rendition, 'name' | 'width' | 'height' | 'bandwidth' | 'codecs' | 'status' | 'progress'>;
export type VodProgress = { vodId: string; status: string; renditions: VodRenditionProgress[] };
