// Stream keys: high-entropy random secrets, shown once, stored as SHA-256. WHIP (Bearer) and RTMP (stream name)
// publishing authenticate with them through verifyStreamKey.
import { and, eq, isNull } from 'drizzle-orm';
import { channel, streamKey, type Db } from './db/index.ts';
import { base64url, randomBytes } from './encoding.ts';
import { sha256Hex } from './host/hash.ts';

const PREFIX = 'glint_';

export function generateStreamKey(): { key: string; prefix: string; hash: string } {
  const key = PREFIX + base64url(randomBytes(32));
  return { key, prefix: key.slice(0, PREFIX.length + 6), hash: hashStreamKey(key) };
}

/** A fast hash is right here: keys carry 256 bits of entropy, so there is nothing to brute-force. */
export function hashStreamKey(key: string): string {
  return sha256Hex(key);
}

/** The channel a live key publishes to, or null for an unknown or revoked key. Records its last use. */
export async function verifyStreamKey(db: Db, key: string): Promise<{ channelId: string; slug: string; keyId: string } | null> {
  if (!key.startsWith(PREFIX) || key.length > 200) return null;
  const [row] = await db
    .select({ keyId: streamKey.id, channelId: channel.id, slug: channel.slug })
    .from(streamKey)
    .innerJoin(channel, eq(channel.id, streamKey.channelId))
    .where(and(eq(streamKey.hash, hashStreamKey(key)), isNull(streamKey.revokedAt)))
    .limit(1);
  if (!row) return null;
  await db.update(streamKey).set({ lastUsedAt: new Date() }).where(eq(streamKey.id, row.keyId));
  return row;
}
