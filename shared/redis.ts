// Every Redis connection Glint opens (bus, chat adapter, rate limits) is made here, so every one survives Redis going
// away the same way: an 'error' listener (without one ioredis complains on every reconnect attempt), its failures
// logged at most once per LOG_EVERY_MS while they last, and a line when it is back.
import type { Redis, RedisOptions } from 'ioredis';
import { throttledWarn, type Logger } from './logger.ts';

/**
 * What a connection is for decides how it waits for a Redis that is away:
 * - 'command': fails at once (no offline queue): a rate limit falls back to this process's budget, a publish is
 *   dropped (and logged) instead of holding a request or a chat send for seconds;
 * - 'subscriber': waits for Redis however long it takes (ioredis resubscribes on reconnect by itself), so a
 *   subscription made while Redis is away takes effect when it is back.
 */
export type RedisRole = 'command' | 'subscriber';

const roleOptions: Record<RedisRole, RedisOptions> = {
  command: { enableOfflineQueue: false, maxRetriesPerRequest: 1 },
  subscriber: { enableOfflineQueue: true, maxRetriesPerRequest: null },
};

/** Adds the error listener and the reconnect log line to a client (a duplicate needs its own: listeners are not copied). */
export function watchRedis(client: Redis, name: string, log: Logger | undefined): Redis {
  const warn = throttledWarn(log, `redis (${name}) unavailable; retrying`);
  let failing = false;
  client.on('error', (err: unknown) => {
    failing = true;
    warn(err);
  });
  client.on('ready', () => {
    if (failing) log?.info({ client: name }, 'redis reconnected');
    failing = false;
  });
  return client;
}

/** Connects a lazy client; one that cannot connect is closed (left alone, it would retry in the background forever). */
async function connected(client: Redis): Promise<Redis> {
  try {
    await client.connect();
    return client;
  } catch (err) {
    client.disconnect();
    throw err;
  }
}

/** Opens (and waits for) a connection to Redis for `role`. */
export async function openRedis(url: string, name: string, role: RedisRole, log: Logger | undefined): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const client = watchRedis(new Redis(url, { lazyConnect: true, ...roleOptions[role] }), name, log);
  return connected(client);
}

/** A second connection like `client` for another role (the Socket.IO adapter's subscriber), watched the same way. */
export async function duplicateRedis(client: Redis, name: string, role: RedisRole, log: Logger | undefined): Promise<Redis> {
  return connected(watchRedis(client.duplicate({ lazyConnect: true, ...roleOptions[role] }), name, log));
}

/**
 * Closes a connection for good, whatever state Redis is in: QUIT when it is connected (bounded: a Redis that goes
 * away mid-QUIT does not hold the shutdown), then disconnect, which also cancels a reconnect in progress. A bare
 * quit() rejects on a command connection while it is reconnecting, and that connection would retry forever.
 */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([client.quit().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 1000)))]);
    clearTimeout(timer);
  }
  client.disconnect();
}
