// One broadcast, measured and checked as a recording: its media time (first video the SFU receives → the live
// session's end), its VoD listed for the owner while live with a playlist that answers once a segment is stored, and
// afterwards a ready VoD that decodes whole with the broadcast's duration. Shared by the recorder's matrix and
// back-to-back suites.
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { liveSession } from '../../shared/db/index.ts';
import type { Client, TestApi } from './api.ts';
import { checkPlaylistUrl, decodeWhole } from './vod-check.ts';
import { until } from './webrtc.ts';

/** How far a VoD's duration may be from the broadcast's media time. */
export const DURATION_TOLERANCE_S = 0.5;

export type Broadcast = { slug: string; sessionId: string; mediaFrom: number };
type VodItem = { id: string; liveSessionId: string; status: string; playlistUrl: string; durationSeconds: number | null; failureReason?: string | null };

/** Waits until the SFU receives video on `slug`: the broadcast's media time starts here (what viewers see). */
export async function mediaStarts(api: TestApi, slug: string, timeoutMs = 20_000): Promise<Broadcast> {
  const flowing = await until(async () => {
    const room = api.sfu.room(slug);
    const stats = await room?.producerStats().catch(() => []);
    return stats?.some((s) => s.kind === 'video' && s.packetCount > 0) ? room!.sessionId : undefined;
  }, (id) => !!id, timeoutMs);
  assert.ok(flowing, `video reaches the SFU on ${slug}`);
  return { slug, sessionId: flowing!, mediaFrom: Date.now() };
}

/** The owner's listing entry for the broadcast's recording (undefined while not listed). */
export async function listedVod(owner: Client, b: Broadcast): Promise<VodItem | undefined> {
  const r = await owner.get(`/api/channels/${b.slug}/vods`);
  return (r.body.items as VodItem[] | undefined)?.find((v) => v.liveSessionId === b.sessionId);
}

/**
 * While live: the owner lists the recording as `recording`, and its playlist answers 200 — a valid playlist without
 * ENDLIST whose segments all answer — once the first segment is stored (within a few seconds of the media starting).
 */
export async function checkWhileLive(api: TestApi, owner: Client, b: Broadcast): Promise<void> {
  const listed = await until(() => listedVod(owner, b), (v) => !!v, 5000);
  assert.is(listed?.status, 'recording', `the owner lists the recording of ${b.slug} while live`);
  const answered = await until(() => fetch(api.base + listed!.playlistUrl).then((r) => r.status), (s) => s === 200, 10_000);
  assert.is(answered, 200, `the live playlist of ${b.slug} answers once a segment is stored`);
  const live = await checkPlaylistUrl(api.base + listed!.playlistUrl, { ended: false });
  assert.equal(live.problems, [], `live playlist of ${b.slug}:\n${live.text}`);
}

/** The broadcast's media time in seconds: from its first video to its live session's end. */
export async function mediaSeconds(api: TestApi, b: Broadcast): Promise<number> {
  const row = await until(async () => (await api.deps.database.db.select().from(liveSession).where(eq(liveSession.id, b.sessionId)))[0], (r) => !!r?.endedAt, 10_000);
  assert.ok(row?.endedAt, `the live session of ${b.slug} ended`);
  return (row!.endedAt!.getTime() - b.mediaFrom) / 1000;
}

/** After the broadcast: its VoD becomes ready, its playlist is valid and ended, and it decodes whole with its duration. */
export async function checkRecordedWhole(api: TestApi, owner: Client, b: Broadcast): Promise<{ vod: VodItem; seconds: number; broadcast: number }> {
  const broadcast = await mediaSeconds(api, b);
  const v = await until(() => listedVod(owner, b), (x) => x?.status !== undefined && x.status !== 'recording', 20_000);
  assert.is(v?.status, 'ready', `the recording of ${b.slug} (${broadcast.toFixed(2)} s): ${JSON.stringify(v)}`);
  const ended = await checkPlaylistUrl(api.base + v!.playlistUrl, { ended: true });
  assert.equal(ended.problems, [], `final playlist of ${b.slug}:\n${ended.text}`);
  const decoded = await decodeWhole(api.base + v!.playlistUrl, { variableFrameRate: true }); // WebRTC publishers
  assert.equal(decoded.errors, [], `decoding ${b.slug}`);
  assert.equal(decoded.streams, ['audio:aac', 'video:h264']);
  const off = Math.abs(decoded.durationSeconds - broadcast);
  assert.ok(off <= DURATION_TOLERANCE_S, `${b.slug}: VoD ${decoded.durationSeconds.toFixed(2)} s vs broadcast ${broadcast.toFixed(2)} s`);
  return { vod: v!, seconds: decoded.durationSeconds, broadcast };
}
