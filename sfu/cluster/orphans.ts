// Broadcasts whose node died: a killed SFU node ends nothing, so its live sessions stay open in the database (the
// channel shown live, and a publisher moving to another node refused by the one-open-session-per-channel index)
// until some node ends them. Every node looks now and then (OrphanSweep); a session is an orphan when no registered
// node holds its channel on two looks at least ENTRY_TTL_MS apart — one look is not enough: a Redis that restarted
// empty lists nobody until each node's next beat, and a broadcast that just started is in its node's entry only a
// moment after its row is written.
import { and, eq, inArray, isNull, lt, notInArray } from 'drizzle-orm';
import type { EventBus } from '../../shared/bus.ts';
import { channel, liveSession, type Db } from '../../shared/db/index.ts';
import { ENTRY_TTL_MS, type SfuNodeState } from '../../shared/sfu-nodes.ts';

/** Why a dead node's broadcast was ended by another node. */
export const NODE_GONE = 'media server gone';

export class OrphanSweep {
  /** session id → when it was first seen held by no node */
  private readonly suspects = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
  ) {}

  /**
   * One look with the registry's `nodes`: ends (and announces with channel.offline, as their own node would) the open
   * sessions held by none of them now and on a look at least ENTRY_TTL_MS ago. Returns the sessions it ended.
   */
  async look(nodes: SfuNodeState[], now = Date.now()): Promise<string[]> {
    const held = nodes.flatMap((n) => n.channels.map((c) => c.id));
    const unheld = await this.db
      .select({ id: liveSession.id })
      .from(liveSession)
      .where(and(isNull(liveSession.endedAt), held.length ? notInArray(liveSession.channelId, held) : undefined));
    const ids = new Set(unheld.map((s) => s.id));
    for (const id of this.suspects.keys()) if (!ids.has(id)) this.suspects.delete(id);
    for (const id of ids) if (!this.suspects.has(id)) this.suspects.set(id, now);
    const confirmed = [...this.suspects].filter(([, since]) => now - since >= ENTRY_TTL_MS).map(([id]) => id);
    if (!confirmed.length) return [];
    // several nodes may sweep at once: the row's own check (still open) lets exactly one of them end it
    const ended = await this.db
      .update(liveSession)
      .set({ endedAt: new Date(now), endReason: NODE_GONE, viewers: 0 })
      .where(and(inArray(liveSession.id, confirmed), isNull(liveSession.endedAt), lt(liveSession.startedAt, new Date(now - ENTRY_TTL_MS))))
      .returning({ sessionId: liveSession.id, channelId: liveSession.channelId, peakViewers: liveSession.peakViewers });
    for (const id of confirmed) this.suspects.delete(id);
    for (const s of ended) {
      const [ch] = await this.db.select({ slug: channel.slug }).from(channel).where(eq(channel.id, s.channelId)).limit(1);
      await this.bus.publish('channel.offline', { channelId: s.channelId, slug: ch?.slug ?? '', sessionId: s.sessionId, reason: NODE_GONE, peakViewers: s.peakViewers });
    }
    return ended.map((s) => s.sessionId);
  }
}
