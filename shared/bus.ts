// Event bus between Glint's services: in-process (embedded default) or Redis pub/sub (REDIS_URL set).
// Later issues publish live/offline, chat and notification events here; the map below is the whole vocabulary (the
// recorder ↔ SFU protocol's events come from shared/recorder-protocol.ts, the edge ↔ origin one's from shared/edge-protocol.ts).
import type { Redis as RedisClient } from 'ioredis';
import type { Logger } from './logger.ts';
import { throttledWarn } from './logger.ts';
import { closeRedis, openRedis } from './redis.ts';
import type { EdgeEvents } from './edge-protocol.ts';
import type { RecorderEvents } from './recorder-protocol.ts';
import type { NotificationView } from './socket-events.ts';
import type { Rendition } from './vod-ladder.ts';

export type BusEvents = RecorderEvents & EdgeEvents & {
  'channel.created': { channelId: string; slug: string; ownerId: string };
  'channel.updated': { channelId: string; slug: string };
  'channel.deleted': { channelId: string; slug: string };
  /** A broadcast started on the SFU (WHIP or RTMP). */
  'channel.live': { channelId: string; slug: string; sessionId: string; source: 'whip' | 'rtmp'; codecs: string[]; startedAt: string };
  /** A broadcast's publisher reconnected within the grace period (same session, new producers). */
  'channel.resumed': { channelId: string; slug: string; sessionId: string };
  /** A broadcast ended. */
  'channel.offline': { channelId: string; slug: string; sessionId: string; reason: string; peakViewers: number };
  /** The broadcast in progress was renamed (its title or category) by its owner: pages showing it say the new one. */
  'broadcast.renamed': { channelId: string; slug: string; sessionId: string };
  /** How many watch a broadcast changed (a viewer joined or left): the API passes it on to the pages watching. */
  'channel.viewers': { channelId: string; slug: string; sessionId: string; viewers: number };
  /** An admin asked an SFU node to drain (sfu/README.md, "Many nodes"): it takes no new broadcasts, then stops. */
  'sfu.drain': { nodeId: string };
  /** A stream key stopped being valid (revoked or rotated): publishers using it must be disconnected. */
  'streamkey.revoked': { channelId: string; keyId: string };
  /** A recording became playable as a VoD (its playlist has #EXT-X-ENDLIST). */
  'vod.ready': { vodId: string; channelId: string; sessionId: string | null; durationMs: number };
  /** A VoD's transcode moved on (a rendition started, progressed at most once a second, finished or failed). */
  'vod.progress': { vodId: string; channelId: string; status: string; renditions: Rendition[] };
  /** A VoD's row changed outside the API with no other event saying so (the recorder's new recording, its end
   * however it went, its poster; the transcoder's images): caches of VoD lists drop the channel's. */
  'vod.updated': { vodId: string; channelId: string };
  /** A notification was put in a user's inbox by a process with no Socket.IO (the transcoder): the API pushes it to
   * the user's open tabs. */
  'user.notified': { userId: string; notification: NotificationView };
  /** A chat message was stored and sent (for whatever else wants to know: search, webhooks, metrics). */
  'chat.message': { channelId: string; slug: string; messageId: string; userId: string; liveSessionId: string | null };
};

export type BusEventName = keyof BusEvents;
export type BusHandler<K extends BusEventName> = (payload: BusEvents[K]) => void;

export interface EventBus {
  readonly kind: 'memory' | 'redis';
  /**
   * Never rejects: an event that cannot leave this process (Redis away) is logged and still reaches this process's
   * own subscribers, so a broadcast ending while Redis is down cannot take the process with it.
   */
  publish<K extends BusEventName>(event: K, payload: BusEvents[K]): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe<K extends BusEventName>(event: K, handler: BusHandler<K>): () => void;
  close(): Promise<void>;
}

type Handler = (payload: unknown) => void;

/**
 * Handlers by event name, in the order they subscribed; the same handler twice is called twice (one off removes one),
 * as with node:events, which the bus no longer needs.
 */
class Handlers {
  private readonly byEvent = new Map<string, readonly Handler[]>();

  /** Takes a typed handler: the bus's methods pair each event with its payload type. */
  on(event: string, handler: (payload: never) => void) {
    this.byEvent.set(event, [...this.of(event), handler as Handler]);
  }

  off(event: string, handler: (payload: never) => void) {
    const list = this.of(event);
    const i = list.lastIndexOf(handler as Handler);
    if (i < 0) return;
    const left = list.toSpliced(i, 1);
    if (left.length) this.byEvent.set(event, left);
    else this.byEvent.delete(event);
  }

  /** The handlers subscribed now; never changed in place, so one that subscribes or unsubscribes while they run changes the next call. */
  of(event: string): readonly Handler[] {
    return this.byEvent.get(event) ?? [];
  }

  clear() {
    this.byEvent.clear();
  }
}

/** Single-process bus: handlers run on the next tick, as they would after a network hop. */
export class MemoryBus implements EventBus {
  readonly kind = 'memory' as const;
  private readonly handlers = new Handlers();

  async publish<K extends BusEventName>(event: K, payload: BusEvents[K]): Promise<void> {
    queueMicrotask(() => {
      const copy = structuredClone(payload);
      for (const handler of this.handlers.of(event)) handler(copy);
    });
  }

  subscribe<K extends BusEventName>(event: K, handler: BusHandler<K>): () => void {
    this.handlers.on(event, handler);
    return () => this.handlers.off(event, handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}

/**
 * Redis pub/sub bus: one publisher and one subscriber connection per process, channels prefixed per deployment.
 * While Redis is away a publish is dropped for other processes (logged, rate-limited) and delivered to this one's
 * subscribers directly; the subscriber connection resubscribes when Redis is back.
 */
export class RedisBus implements EventBus {
  readonly kind = 'redis' as const;
  private readonly local = new Handlers();
  private readonly counts = new Map<string, number>();
  private pending: Promise<unknown> = Promise.resolve();
  private readonly publishFailed: (err: unknown) => void;

  private constructor(
    private readonly pub: RedisClient,
    private readonly sub: RedisClient,
    private readonly prefix: string,
    private readonly log: Logger | undefined,
  ) {
    this.publishFailed = throttledWarn(log, 'bus publish failed (redis unavailable); delivered in this process only');
    sub.on('message', (channel: string, message: string) => {
      if (!channel.startsWith(prefix)) return;
      let payload: unknown;
      try {
        payload = JSON.parse(message);
      } catch {
        return; // not ours; never let a stray message crash the process
      }
      this.emit(channel.slice(prefix.length), payload);
    });
  }

  static async connect(url: string, prefix = 'glint:', log?: Logger): Promise<RedisBus> {
    const [pub, sub] = await Promise.all([openRedis(url, 'bus-pub', 'command', log), openRedis(url, 'bus-sub', 'subscriber', log)]);
    return new RedisBus(pub, sub, prefix, log);
  }

  async publish<K extends BusEventName>(event: K, payload: BusEvents[K]): Promise<void> {
    try {
      await this.pub.publish(this.prefix + event, JSON.stringify(payload));
    } catch (err) {
      this.publishFailed(err);
      // the subscriber is cut off from Redis too: this process's own handlers hear it from here
      queueMicrotask(() => this.emit(event, structuredClone(payload)));
    }
  }

  /** A handler that throws is one subscriber's bug: it must not stop the others or escape into the process. */
  private emit(event: string, payload: unknown) {
    for (const handler of this.local.of(event)) {
      try {
        handler(payload);
      } catch (err) {
        this.log?.error({ err, event }, 'bus handler failed');
      }
    }
  }

  subscribe<K extends BusEventName>(event: K, handler: BusHandler<K>): () => void {
    const n = this.counts.get(event) ?? 0;
    this.counts.set(event, n + 1);
    // the subscriber waits for Redis however long it is away; a close ends the wait, which is no failure
    if (n === 0) this.pending = Promise.all([this.pending, this.sub.subscribe(this.prefix + event).catch(() => undefined)]);
    this.local.on(event, handler);
    return () => {
      this.local.off(event, handler);
      const left = (this.counts.get(event) ?? 1) - 1;
      this.counts.set(event, left);
      if (left === 0) void this.sub.unsubscribe(this.prefix + event).catch(() => undefined);
    };
  }

  /** Resolves once Redis has confirmed every subscription made so far (tests and start-up ordering). */
  async ready(): Promise<void> {
    await this.pending;
  }

  async close(): Promise<void> {
    this.local.clear();
    await Promise.all([closeRedis(this.sub), closeRedis(this.pub)]);
  }
}

/** The one place that chooses the bus implementation from config. */
export async function createBus(redisUrl: string | undefined, prefix?: string, log?: Logger): Promise<EventBus> {
  return redisUrl ? RedisBus.connect(redisUrl, prefix, log) : new MemoryBus();
}
