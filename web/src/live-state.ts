// Live state on the page's one socket (web/src/socket.ts): the components showing channels (cards, the channel page,
// the follow button) say which they show, this module `watch`es the union of them once per change and keeps what the
// server pushes — live or offline, viewer counts, the recording of a broadcast that ended — so every one of them
// follows without a reload and without polling. After a reconnect it watches again, and the acknowledgement brings
// back whatever changed meanwhile.
import { useEffect, useState } from 'preact/hooks';
import type { Channel } from './api.ts';
import type { LiveNow, LiveSnapshot, ServerToClientEvents } from '../../shared/socket-events.ts';
import { useSession } from './session.ts';
import { holdSocket, type PageSocket } from './socket.ts';

/** What the page knows of one channel's broadcast since it started watching it. */
export type LiveInfo = {
  title: string;
  live: LiveNow | null;
  /** the broadcast that ended while the page watched, and its recording (null: none) */
  ended: { vodId: string | null; ready: boolean } | null;
  /** counts the page's live/offline/recording changes of the channel (a key for what to reload) */
  changes: number;
};

type Listener = () => void;

/** How long a socket no component watches through stays open (a navigation unmounts one page's cards, then mounts the next's). */
const LINGER_MS = 2000;

/** The watches of one socket (one per signed-in user, as the socket is), held while anything watches. */
class Feed {
  private held: { socket: PageSocket; release: () => void } | null = null;
  private readonly watchers = new Map<string, Set<Listener>>();
  private readonly directory = new Set<Listener>();
  private readonly known = new Map<string, LiveInfo>();
  private queued = false;
  /** the directory's room holds this connection (what the page fetched before that may have missed a change) */
  private directoryJoined = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private linger: ReturnType<typeof setTimeout> | undefined;
  private readonly handlers: { [E in 'channel:live' | 'channel:offline' | 'channel:viewers' | 'vod:ready']: ServerToClientEvents[E] } = {
    'channel:live': (e) => this.update(e.slug, (i) => ({ ...i, title: e.title, live: e.live, ended: null, changes: i.changes + 1 }), true),
    'channel:offline': (e) => this.update(e.slug, (i) => ({ ...i, live: null, ended: { vodId: e.vodId, ready: false }, changes: i.changes + 1 }), true),
    'channel:viewers': (e) => this.update(e.slug, (i) => (i.live ? { ...i, live: { ...i.live, viewers: e.count } } : i)),
    'vod:ready': (e) => this.update(e.slug, (i) => ({ ...i, ended: { vodId: e.vodId, ready: true }, changes: i.changes + 1 })),
  };

  constructor(private readonly userId: string | null) {}

  private open(): PageSocket {
    clearTimeout(this.linger);
    if (this.held) return this.held.socket;
    this.held = holdSocket(this.userId);
    const s = this.held.socket;
    s.on('connect', this.send);
    s.on('disconnect', this.left);
    for (const [event, fn] of Object.entries(this.handlers)) s.on(event as 'vod:ready', fn as ServerToClientEvents['vod:ready']);
    return s;
  }

  private close() {
    clearTimeout(this.retry);
    if (!this.held) return;
    const { socket, release } = this.held;
    this.held = null;
    socket.off('connect', this.send);
    socket.off('disconnect', this.left);
    this.directoryJoined = false;
    for (const [event, fn] of Object.entries(this.handlers)) socket.off(event as 'vod:ready', fn as ServerToClientEvents['vod:ready']);
    release();
  }

  info(slug: string): LiveInfo | undefined {
    return this.known.get(slug);
  }

  /** Watches `slug` until the returned function is called; `listener` hears each change of it. */
  watch(slug: string, listener: Listener): () => void {
    const set = this.watchers.get(slug) ?? new Set();
    this.open();
    set.add(listener);
    this.watchers.set(slug, set);
    if (set.size === 1) this.queue();
    return () => {
      set.delete(listener);
      if (set.size) return;
      this.watchers.delete(slug);
      this.known.delete(slug);
      this.queue();
    };
  }

  /** Hears every channel go live or offline, until the returned function is called. */
  watchDirectory(listener: Listener): () => void {
    this.open();
    this.directory.add(listener);
    if (this.directory.size === 1) this.queue();
    return () => {
      this.directory.delete(listener);
      if (!this.directory.size) this.queue();
    };
  }

  /** Changes of one moment (a page of cards mounting) go out as one watch. */
  private queue() {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      if (this.watchers.size || this.directory.size) return this.send();
      clearTimeout(this.linger);
      this.linger = setTimeout(() => !this.watchers.size && !this.directory.size && this.close(), LINGER_MS);
    });
  }

  private readonly send = () => {
    const socket = this.held?.socket;
    if (!socket?.connected) return; // `connect` sends it
    clearTimeout(this.retry);
    const channels = [...this.watchers.keys()];
    const directory = this.directory.size > 0;
    socket
      .timeout(10_000)
      .emitWithAck('watch', { channels, directory })
      .then(
        (reply) => {
          if (!reply.ok) {
            if (reply.error.retryAfterMs) this.retry = setTimeout(this.send, reply.error.retryAfterMs);
            return;
          }
          for (const snap of reply.channels) this.apply(snap);
          // from the acknowledgement on, the room hears every change; one made between the page's fetch and now is
          // only caught by fetching again
          if (directory && !this.directoryJoined) for (const l of this.directory) l();
          this.directoryJoined = directory;
        },
        () => (this.retry = setTimeout(this.send, 5000)), // no answer: the connection is likely going; `connect` sends again
      );
  };

  private readonly left = () => (this.directoryJoined = false);

  private apply(snap: LiveSnapshot) {
    const was = this.known.get(snap.slug);
    const changed = !!was && (was.live?.sessionId ?? null) !== (snap.live?.sessionId ?? null);
    this.update(snap.slug, (i) => ({ ...i, title: snap.title, live: snap.live, changes: i.changes + (changed ? 1 : 0) }));
  }

  private update(slug: string, change: (info: LiveInfo) => LiveInfo, toDirectory = false) {
    if (toDirectory) for (const l of this.directory) l();
    if (!this.watchers.has(slug)) return;
    const was = this.known.get(slug) ?? { title: '', live: null, ended: null, changes: 0 };
    this.known.set(slug, change(was));
    for (const l of this.watchers.get(slug) ?? []) l();
  }

}

const feeds = new Map<string, Feed>();
const feedFor = (userId: string | null) => {
  const key = userId ?? '';
  let feed = feeds.get(key);
  if (!feed) feeds.set(key, (feed = new Feed(userId)));
  return feed;
};

/** The page's socket is the session's: watches wait until the session is known, so a page opens one socket. */
function useFeed(): Feed | null {
  const { status, user } = useSession();
  return status === 'ready' ? feedFor(user?.id ?? null) : null;
}

/**
 * A channel as it is now: `channel` (as the page fetched it) with its live state and title kept current by the
 * socket; `info` also says whether a broadcast ended while the page watched, and its recording.
 */
export function useLiveChannel<C extends Pick<Channel, 'slug' | 'title' | 'live'>>(channel: C): { channel: C; info: LiveInfo | undefined } {
  const feed = useFeed();
  const [, rerender] = useState(0);
  const slug = channel.slug;
  useEffect(() => {
    if (!feed) return;
    return feed.watch(slug, () => rerender((n) => n + 1));
  }, [feed, slug]);
  const info = feed?.info(slug);
  if (!info || !info.title) return { channel, info };
  return { channel: { ...channel, title: info.title, live: info.live }, info };
}

/** Calls `onChange` whenever any channel goes live or offline (pages that count live channels). */
export function useLiveDirectory(onChange: () => void) {
  const feed = useFeed();
  useEffect(() => {
    if (!feed) return;
    return feed.watchDirectory(onChange);
  }, [feed]);
}
