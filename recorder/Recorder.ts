// The recorder service: every live session becomes a VoD. It hears channel.live / channel.offline on the bus, asks
// the SFU for the media over the bus, keeps a vod row per recording, and finalizes what a previous run left behind.
// It reads and writes the database and the object store through shared/, and never imports the SFU.
import { lookup } from 'node:dns/promises';
import path from 'node:path';
import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Config } from '../shared/config.ts';
import type { EventBus } from '../shared/bus.ts';
import { recordingTitle, vodPrefix } from '../shared/media.ts';
import { RECORDER_HEARTBEAT_MS } from '../shared/recorder-protocol.ts';
import { channel, liveSession, vod, type Db } from '../shared/db/index.ts';
import type { Logger } from '../shared/logger.ts';
import type { ObjectStore } from '../shared/storage.ts';
import { Recording } from './Recording.ts';

export type RecorderDeps = { config: Config; db: Db; bus: EventBus; store: ObjectStore; log: Logger };

/** How often the recorder asks the database whether the broadcasts it records are still live (an SFU that restarted
 * ended them without a channel.offline reaching this process). */
const LIVENESS_CHECK_MS = 5000;
/** How long the start waits for the leftovers of a killed run to be finished (longer only while the store is away). */
const LEFTOVERS_WAIT_MS = 20_000;

/** Less media than this is no VoD (a broadcast ended as it began, or one whose media never reached the recorder). */
export const MIN_RECORDING_MS = 1000;

/**
 * What a finished recording becomes: `ready` with enough media to watch, else `failed` with a reason its channel's
 * owner is shown (viewers never see a failed recording).
 */
export function outcome(segments: number, durationMs: number, attached = true): { status: 'ready' | 'failed'; failureReason: string | null } {
  // what was stored decides: a leftover a restarted recorder finishes never attached in this run, yet holds media
  if (!segments && !attached) return { status: 'failed', failureReason: 'The recorder could not attach to the broadcast; nothing was recorded.' };
  if (!segments) return { status: 'failed', failureReason: 'No playable media reached the recorder (was the video forwarded?); nothing was recorded.' };
  if (durationMs < MIN_RECORDING_MS) return { status: 'failed', failureReason: `Only ${(durationMs / 1000).toFixed(1)} s were recorded, too short to keep as a VoD.` };
  return { status: 'ready', failureReason: null };
}

export class Recorder {
  /** by live session id */
  private readonly recordings = new Map<string, Promise<Recording | undefined>>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly timers: NodeJS.Timeout[] = [];

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
      // the SFU stopped hearing this process's heartbeat (Redis was away) and detached the recording: attach again
      deps.bus.subscribe('recorder.detached', (e) => {
        void this.recordings.get(e.sessionId)?.then((rec) => (rec?.attached ? rec.reattach() : undefined)).catch((err) => deps.log.warn({ err, session: e.sessionId }, 'could not attach the recording again'));
      }),
    );
    // the SFU detaches a recorder it stops hearing from (the recorder died): tell it which sessions are still recorded
    this.timers.push(setInterval(() => {
      if (this.recordings.size) void deps.bus.publish('recorder.heartbeat', { sessions: [...this.recordings.keys()] });
    }, RECORDER_HEARTBEAT_MS));
    this.timers.push(setInterval(() => void this.endOver().catch((err) => deps.log.warn({ err }, 'could not check which recorded broadcasts are live')), LIVENESS_CHECK_MS));
    for (const t of this.timers) t.unref();
  }

  /** Ends the recordings of broadcasts the database says are over (their SFU restarted, or ended them unheard). */
  private async endOver(): Promise<void> {
    const ids = [...this.recordings.keys()];
    if (!ids.length) return;
    const over = await this.deps.db.select({ id: liveSession.id }).from(liveSession).where(and(inArray(liveSession.id, ids), isNotNull(liveSession.endedAt)));
    for (const { id } of over) {
      this.deps.log.warn({ session: id }, 'the recorded broadcast ended unheard; finishing its recording');
      void this.end(id);
    }
  }

  static async create(deps: RecorderDeps): Promise<Recorder> {
    const { address } = await lookup(deps.config.recorder.rtpHost, { family: 4 });
    const recorder = new Recorder(deps, address);
    await recorder.takeOverLeftovers();
    return recorder;
  }

  /**
   * Recordings a previous run left open (it crashed or was killed). The broadcast still live (its session not ended,
   * and the SFU answers the attach) is recorded on into the same VoD after a discontinuity; any other becomes the VoD
   * of what was stored, plus what its work directory still held.
   */
  private async takeOverLeftovers() {
    const { db, log } = this.deps;
    const rows = await db
      .select({ id: vod.id, prefix: vod.storagePrefix, codecs: vod.codecs, sessionId: vod.liveSessionId, live: sql<boolean>`${liveSession.id} is not null and ${liveSession.endedAt} is null`, slug: channel.slug })
      .from(vod)
      .leftJoin(liveSession, eq(liveSession.id, vod.liveSessionId))
      .leftJoin(channel, eq(channel.id, vod.channelId))
      .where(eq(vod.status, 'recording'));
    const finishing: Promise<void>[] = [];
    for (const row of rows) {
      const rec = this.recording({ vodId: row.id, sessionId: row.sessionId ?? '', slug: row.slug ?? '', prefix: row.prefix });
      const kinds = [...new Set(row.codecs.map((c) => c.split('/')[0] as 'audio' | 'video'))];
      try {
        await rec.adopt(kinds);
      } catch (err) {
        log.error({ err, vod: row.id }, 'could not take over a recording a previous run left open');
        continue;
      }
      if (row.live && row.sessionId && !this.recordings.has(row.sessionId)) {
        const sessionId = row.sessionId;
        log.warn({ vod: row.id, session: sessionId }, 'resuming a recording a previous run left open: its broadcast is live');
        this.recordings.set(sessionId, Promise.resolve(rec));
        rec.start(kinds).then(
          () => rec.attached && log.info({ vod: row.id, session: sessionId, ffmpeg: rec.pid }, 'recording resumed'),
          (err) => {
            log.warn({ err, vod: row.id }, 'the broadcast of a leftover recording did not answer; finishing it');
            void this.end(sessionId);
          },
        );
      } else {
        finishing.push(this.track(this.finish(Promise.resolve(rec), row.sessionId)));
      }
    }
    if (finishing.length) log.warn({ vods: finishing.length }, 'finishing recordings a previous run left open');
    await Promise.race([Promise.all(finishing), new Promise((r) => setTimeout(r, LEFTOVERS_WAIT_MS).unref())]);
  }

  private recording(info: { vodId: string; sessionId: string; slug: string; prefix: string }): Recording {
    return new Recording(info, path.join(this.deps.config.dataDir, 'recorder', info.vodId), { bus: this.deps.bus, store: this.deps.store, log: this.deps.log, rtpIp: this.rtpIp });
  }

  private async begin(e: { channelId: string; slug: string; sessionId: string; codecs: string[]; startedAt: string }): Promise<Recording | undefined> {
    const { db, log } = this.deps;
    const [ch] = await db
      .select({ title: channel.title, broadcastTitle: liveSession.title, subscribersOnly: sql<boolean>`${channel.subscribersOnlyVods} or ${channel.subscribersOnlyLive}` })
      .from(channel)
      .leftJoin(liveSession, eq(liveSession.id, e.sessionId))
      .where(eq(channel.id, e.channelId))
      .limit(1);
    if (!ch) return undefined;
    const vodId = crypto.randomUUID();
    const prefix = vodPrefix(vodId);
    // a subscriber-only broadcast is not free to watch from its recording
    await db.insert(vod).values({ id: vodId, channelId: e.channelId, liveSessionId: e.sessionId, title: recordingTitle(ch.broadcastTitle ?? '', ch.title, new Date(e.startedAt)), storagePrefix: prefix, codecs: e.codecs, startedAt: new Date(e.startedAt), visibility: ch.subscribersOnly ? 'subscribers' : 'public' });
    await this.deps.bus.publish('vod.updated', { vodId, channelId: e.channelId });
    const rec = this.recording({ vodId, sessionId: e.sessionId, slug: e.slug, prefix });
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
    return this.track(this.finish(pending, sessionId));
  }

  /** Keeps a recording being finished in `ending` until it is. */
  private track(finishing: Promise<void>): Promise<void> {
    const done = finishing.finally(() => this.ending.delete(done));
    this.ending.add(done);
    return done;
  }

  private async finish(pending: Promise<Recording | undefined>, sessionId: string | null) {
    const rec = await pending;
    if (!rec) return;
    const { db, bus, log } = this.deps;
    try {
      const result = await rec.stop();
      const { status, failureReason } = outcome(result.segments, result.durationMs, rec.attached);
      const [row] = await db
        .update(vod)
        .set({ status, failureReason, endedAt: new Date(), durationMs: result.durationMs, sizeBytes: result.sizeBytes, ...(rec.codecs.length ? { codecs: rec.codecs } : {}) })
        .where(eq(vod.id, rec.info.vodId))
        .returning();
      log[status === 'ready' ? 'info' : 'warn']({ vod: rec.info.vodId, status, failureReason, durationMs: result.durationMs, segments: result.segments }, 'recording finished');
      if (row && status === 'ready') await bus.publish('vod.ready', { vodId: row.id, channelId: row.channelId, sessionId, durationMs: result.durationMs });
      else if (row) await bus.publish('vod.updated', { vodId: row.id, channelId: row.channelId });
      // playable already; the poster follows
      const posterKey = await rec.finish();
      if (posterKey && row) {
        await db.update(vod).set({ posterKey }).where(eq(vod.id, rec.info.vodId));
        await bus.publish('vod.updated', { vodId: row.id, channelId: row.channelId });
      }
    } catch (err) {
      log.error({ err, vod: rec.info.vodId }, 'could not finish the recording');
    }
  }

  /** Finishes every recording in progress (their VoDs stay playable) and stops listening. */
  async close(): Promise<void> {
    for (const off of this.unsubscribe) off();
    for (const t of this.timers) clearInterval(t);
    await Promise.all([...this.recordings.keys()].map((id) => this.end(id)));
    await Promise.all([...this.ending]); // those the broadcast's end had already started
  }
}
