// Where the media plane runs: the SFU nodes an API routes WHIP and WHEP to. One interface, two forms chosen in one
// place (openSfuNodes): one node named by SFU_URL, or every node that registered itself in Redis
// (SFU_DISCOVERY=redis). Each SFU node writes its entry every HEARTBEAT_MS with a TTL of a few beats, so a node that
// dies (killed, host gone) drops out by itself, and one whose Redis restarted is back at its next beat; a clean stop
// deletes it at once. Portable (the API on Deno reads it): ioredis through shared/redis.ts, no node: modules.
import type { Redis } from 'ioredis';
import type { Logger } from './logger.ts';
import { closeRedis, openRedis } from './redis.ts';

/** How often a node rewrites its entry. */
export const HEARTBEAT_MS = 2000;
/** An entry not rewritten for this long is gone: three missed beats (a GC pause or a slow Redis is not a death). */
export const ENTRY_TTL_MS = 3 * HEARTBEAT_MS + 500;

/** Node ids appear in WHIP/WHEP resource paths (`<node>.<token>`): no dot, nothing a path would escape. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** What a node says about itself. */
export type SfuNodeState = {
  /** SFU_NODE_ID */
  id: string;
  /** its HTTP base as an API reaches it (SFU_NODE_URL) */
  url: string;
  /** viewers it takes at once (SFU_MAX_VIEWERS) */
  capacity: number;
  /** viewers it holds now */
  load: number;
  /** the channels whose broadcast it receives (it is their origin) */
  channels: { id: string; slug: string }[];
  /** refusing new broadcasts (stopping: SIGTERM or an operator's drain) */
  draining: boolean;
  /** the channels whose broadcast it relays to viewers here, piped from their origin (edge pull) */
  relays?: { id: string; slug: string }[];
  /** when it wrote this entry (its own clock: compared only with an earlier value of itself, never with ours) */
  beatAt?: number;
};

export interface SfuNodes {
  /** 'single': SFU_URL names the one node (its id is ''); 'redis': the nodes registered now */
  readonly kind: 'single' | 'redis';
  /** The nodes alive now; rejects when the registry cannot be read (Redis away). */
  list(): Promise<SfuNodeState[]>;
  close(): Promise<void>;
}

const keys = (prefix: string) => ({ ids: `${prefix}sfu:node-ids`, entry: (id: string) => `${prefix}sfu:node:${id}` });

/** The one SFU at SFU_URL: always listed (whether it answers is the proxy's to find out). */
function singleNode(url: string): SfuNodes {
  const node: SfuNodeState = { id: '', url, capacity: Number.MAX_SAFE_INTEGER, load: 0, channels: [], draining: false };
  return { kind: 'single', list: async () => [node], close: async () => undefined };
}

/** The nodes registered in Redis: each entry a key with a TTL, their ids in a set (lapsed ids are pruned on read). */
export async function redisNodes(url: string, prefix: string, log: Logger | undefined): Promise<SfuNodes> {
  const redis = await openRedis(url, 'sfu-nodes', 'command', log);
  const k = keys(prefix);
  return {
    kind: 'redis',
    list: async () => {
      const ids = await redis.smembers(k.ids);
      if (!ids.length) return [];
      const entries = await redis.mget(ids.map(k.entry));
      const nodes: SfuNodeState[] = [];
      const lapsed: string[] = [];
      entries.forEach((raw, i) => {
        const node = raw ? parseEntry(raw) : undefined;
        if (node) nodes.push(node);
        else lapsed.push(ids[i]!);
      });
      // a node re-adds its id with every beat, so removing one that lapsed a moment before it came back is harmless
      if (lapsed.length) void redis.srem(k.ids, ...lapsed).catch(() => undefined);
      return nodes;
    },
    close: () => closeRedis(redis),
  };
}

function parseEntry(raw: string): SfuNodeState | undefined {
  try {
    const e = JSON.parse(raw) as SfuNodeState;
    return typeof e.id === 'string' && typeof e.url === 'string' && Array.isArray(e.channels) ? e : undefined;
  } catch {
    return undefined;
  }
}

/** The API's view of the media plane from config: SFU_URL, the Redis registry, or none (the SFU is in process). */
export async function openSfuNodes(config: { sfuUrl: string | undefined; sfuDiscovery: 'url' | 'redis'; redisUrl: string | undefined; redisPrefix: string }, log: Logger | undefined): Promise<SfuNodes | undefined> {
  if (config.sfuDiscovery === 'redis') return redisNodes(config.redisUrl!, config.redisPrefix, log);
  return config.sfuUrl ? singleNode(config.sfuUrl) : undefined;
}

export type NodeHeartbeat = {
  /** Writes the entry now (after a change that routing should see before the next beat, e.g. draining). */
  beat(): Promise<void>;
  /** Stops beating and deletes the entry (a clean stop: no API waits for it to lapse). */
  stop(): Promise<void>;
};

/**
 * Registers a node and keeps its entry fresh every HEARTBEAT_MS from `state()`. A beat that fails (Redis away) is
 * logged by the connection and retried at the next one: the first beat after Redis is back registers it again.
 */
export async function registerNode(url: string, prefix: string, state: () => SfuNodeState, log: Logger | undefined): Promise<NodeHeartbeat> {
  const redis: Redis = await openRedis(url, 'sfu-node', 'command', log);
  const k = keys(prefix);
  const id = state().id;
  let stopped = false;
  const beat = async () => {
    if (stopped) return;
    await redis.multi().set(k.entry(id), JSON.stringify({ ...state(), beatAt: Date.now() }), 'PX', ENTRY_TTL_MS).sadd(k.ids, id).exec().catch(() => undefined);
  };
  await beat();
  const timer = setInterval(() => void beat(), HEARTBEAT_MS);
  (timer as { unref?: () => void }).unref?.();
  return {
    beat,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await redis.multi().del(k.entry(id)).srem(k.ids, id).exec().catch(() => undefined);
      await closeRedis(redis);
    },
  };
}

/**
 * Where a new broadcast goes: the node with the most room left (as a share of its capacity), among those not
 * draining; undefined when there is none.
 */
export function leastLoaded(nodes: SfuNodeState[]): SfuNodeState | undefined {
  const free = (n: SfuNodeState) => (n.capacity - n.load) / Math.max(1, n.capacity);
  return nodes.filter((n) => !n.draining).sort((a, b) => free(b) - free(a) || a.id.localeCompare(b.id))[0];
}

/**
 * Where a viewer of the broadcast `origin` receives goes with edge pull: the node with the most room left among those
 * not draining, the origin among equals (no pipe needed). A draining origin keeps its broadcast but takes no viewer
 * (the others pull from it); only when every node drains does the viewer go to the origin.
 */
export function viewerNode(nodes: SfuNodeState[], origin: SfuNodeState): SfuNodeState {
  const free = (n: SfuNodeState) => (n.capacity - n.load) / Math.max(1, n.capacity);
  const open = nodes.filter((n) => !n.draining);
  return open.sort((a, b) => free(b) - free(a) || Number(b.id === origin.id) - Number(a.id === origin.id) || a.id.localeCompare(b.id))[0] ?? origin;
}

/** The node receiving the channel `slug`'s broadcast (its origin), if any. */
export function originOf(nodes: SfuNodeState[], slug: string): SfuNodeState | undefined {
  return nodes.find((n) => n.channels.some((c) => c.slug === slug));
}
