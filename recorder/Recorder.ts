// The recorder service: every live session becomes a VoD. It hears channel.live / channel.offline on the bus, asks
// the SFU for the media over the bus, keeps a vod row per recording, and finalizes what a previous run left behind.
// It reads and writes the database and the object store through shared/, and never imports the SFU.
import { lookup } from 'node:dns/promises';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import type { Config } from '../shared/config.ts';
import type { EventBus } from '../shared/bus.ts';
import { channel, vod, type Db } from '../shared/db/index.ts';
import type { Logger } from '../shared/logger.ts';
import type { ObjectStore } from '../shared/storage.ts';
import { CONTENT_TYPES, durationMs, endPlaylist, parsePlaylist } from './hls.ts';
import { Recording } from './Recording.ts';

export type RecorderDeps = { config: Config; db: Db; bus: EventBus; store: ObjectStore; log: Logger };

export const vodPrefix = (vodId: string) => `vod/${vodId}/`;

/** Less media than this is no VoD (a broadcast ended as it began, or one whose media never reached the recorder). */
export const MIN_RECORDING_MS = 1000;

/**
 * What a finished recording becomes: `ready` with enough media to watch, else `failed` with a reason its channel's
 * owner is shown (viewers never see a failed recording).
 */
export function outcome(segments: number, durationMs: number, attached = true): { status: 'ready' | 'failed'; failureReason: string | null } {
  if (!attached) return { status: 'failed', failureReason: 'The recorder could not attach to the broadcast; nothing was recorded.' };
  if (!segments) return { status: 'failed', failureReason: 'No playable media reached the recorder (was the video forwarded?); nothing was recorded.' };
  if (durationMs < MIN_RECORDING_MS) return { status: 'failed', failureReason: `Only ${(durationMs / 1000).toFixed(1)} s were recorded, too short to keep as a VoD.` };
  return { status: 'ready', failureReason: null };
}

export class Recorder {
  /** by live session id */
  private readonly recordings = new Map<string, Promise<Recording | undefined>>();
  private readonly unsubscribe: (() => void)[] = [];

  private constructor(
    private readonly deps: RecorderDeps,
    /** the address the SFU sends RTP to (RECORDER_RTP_HOST, resolved) */
    private readonly rtpIp: string,
  ) {
    this.unsubscribe.push(
      deps.bus.subscribe('channel.live', (e) => {
        if (!this.recordings.has(e.sessionId)) this.recordings.set(e.sessionId, this.begin(e));
      }),
      deps.bus.subscribe('channel.offline', (e) => void this.end(e.sessionId)),
      // the publisher's media stopped or flows again: the recording cuts the gap out
      deps.bus.subscribe('recorder.media', (e) => {
        void this.recordings.get(e.sessionId)?.then((rec) => rec?.media(e.flowing)).catch((err) => deps.log.warn({ err, session: e.sessionId }, 'could not follow the media'));
      }),
      // the publisher came back within the grace period: its tracks are new producers, so attach to them again
      deps.bus.subscribe('channel.resumed', (e) => {
        void this.recordings.get(e.sessionId)?.then((rec) => rec?.reattach()).catch((err) => deps.log.warn({ err, session: e.sessionId }, 'could not resume recording'));
      }),
    );
  }

  static async create(deps: RecorderDeps): Promise<Recorder> {
    const { address } = await lookup(deps.config.recorder.rtpHost, { family: 4 });
    const recorder = new Recorder(deps, address);
    await recorder.finalizeLeftovers();
    return recorder;
  }

  /** Recordings a previous run did not finish (it crashed or was killed): whatever was uploaded becomes the VoD. */
  private async finalizeLeftovers() {
    const rows = await this.deps.db.select().from(vod).where(eq(vod.status, 'recording'));
    for (const row of rows) {
      try {
        await this.finalizeStored(row.id, row.storagePrefix);
      } catch (err) {
        this.deps.log.error({ err, vod: row.id }, 'could not finalize a leftover recording');
      }
    }
    if (rows.length) this.deps.log.warn({ vods: rows.length }, 'finalized recordings a previous run left open');
  }

  private async finalizeStored(vodId: string, prefix: string) {
    const obj = await this.deps.store.get(`${prefix}index.m3u8`);
    const text = obj ? await new Response(obj.body).text() : '';
    const playlist = parsePlaylist(text);
    const result = outcome(playlist.segments.length, durationMs(playlist));
    if (result.status === 'failed') {
      await this.deps.db.update(vod).set({ ...result, endedAt: new Date(), durationMs: durationMs(playlist) }).where(eq(vod.id, vodId));
      return;
    }
    if (!playlist.ended) await this.deps.store.put(`${prefix}index.m3u8`, new TextEncoder().encode(endPlaylist(text)), CONTENT_TYPES.m3u8!);
    let size = 0;
    for (const seg of playlist.segments) size += (await this.deps.store.size(prefix + seg.uri)) ?? 0;
    const [row] = await this.deps.db
      .update(vod)
      .set({ status: 'ready', endedAt: new Date(), durationMs: durationMs(playlist), sizeBytes: size })
      .where(eq(vod.id, vodId))
      .returning();
    if (row) await this.deps.bus.publish('vod.ready', { vodId, channelId: row.channelId, sessionId: row.liveSessionId, durationMs: row.durationMs ?? 0 });
  }

  private async begin(e: { channelId: string; slug: string; sessionId: string; codecs: string[]; startedAt: string }): Promise<Recording | undefined> {
    const { db, log } = this.deps;
    const [ch] = await db
      .select({ title: channel.title, subscribersOnly: sql<boolean>`${channel.subscribersOnlyVods} or ${channel.subscribersOnlyLive}` })
      .from(channel)
      .where(eq(channel.id, e.channelId))
      .limit(1);
    if (!ch) return undefined;
    const vodId = crypto.randomUUID();
    const prefix = vodPrefix(vodId);
    // a subscriber-only broadcast is not free to watch from its recording
    await db.insert(vod).values({ id: vodId, channelId: e.channelId, liveSessionId: e.sessionId, title: ch.title, storagePrefix: prefix, codecs: e.codecs, startedAt: new Date(e.startedAt), subscribersOnly: ch.subscribersOnly });
    const rec = new Recording({ vodId, sessionId: e.sessionId, slug: e.slug, prefix }, path.join(this.deps.config.dataDir, 'recorder', vodId), { bus: this.deps.bus, store: this.deps.store, log, rtpIp: this.rtpIp });
    const kinds = [...new Set(e.codecs.map((c) => c.split('/')[0] as 'audio' | 'video'))];
    // attaching retries by itself while the publisher is away; the recording is registered at once so that the
    // session's end finds it either way (a recording that never attached ends as failed)
    rec.start(kinds).then(
      () => rec.attached && log.info({ vod: vodId, channel: e.slug, session: e.sessionId, codecs: rec.codecs, ffmpeg: rec.pid }, 'recording'),
      (err) => log.error({ err, vod: vodId, channel: e.slug }, 'could not start recording'),
    );
    return rec;
  }

  /** The broadcast ended: finish the recording and publish vod.ready. */
  /** Recordings being finished (FFmpeg's last segment, uploads, the poster): close() waits for them too. */
  private readonly ending = new Set<Promise<void>>();

  private end(sessionId: string): Promise<void> {
    const pending = this.recordings.get(sessionId);
    if (!pending) return Promise.resolve();
    this.recordings.delete(sessionId);
    const done = this.finish(pending, sessionId).finally(() => this.ending.delete(done));
    this.ending.add(done);
    return done;
  }

  private async finish(pending: Promise<Recording | undefined>, sessionId: string) {
    const rec = await pending;
    if (!rec) return;
    const { db, bus, log } = this.deps;
    try {
      const result = await rec.stop();
      const { status, failureReason } = outcome(result.segments, result.durationMs, rec.attached);
      const [row] = await db
        .update(vod)
        .set({ status, failureReason, endedAt: new Date(), durationMs: result.durationMs, sizeBytes: result.sizeBytes, codecs: rec.codecs })
        .where(eq(vod.id, rec.info.vodId))
        .returning();
      log[status === 'ready' ? 'info' : 'warn']({ vod: rec.info.vodId, status, failureReason, durationMs: result.durationMs, segments: result.segments }, 'recording finished');
      if (row && status === 'ready') await bus.publish('vod.ready', { vodId: row.id, channelId: row.channelId, sessionId, durationMs: result.durationMs });
      // playable already; the poster follows
      const posterKey = await rec.finish();
      if (posterKey) await db.update(vod).set({ posterKey }).where(eq(vod.id, rec.info.vodId));
    } catch (err) {
      log.error({ err, vod: rec.info.vodId }, 'could not finish the recording');
    }
  }

  /** Finishes every recording in progress (their VoDs stay playable) and stops listening. */
  async close(): Promise<void> {
    for (const off of this.unsubscribe) off();
    await Promise.all([...this.recordings.keys()].map((id) => this.end(id)));
    await Promise.all([...this.ending]); // those the broadcast's end had already started
  }
}
