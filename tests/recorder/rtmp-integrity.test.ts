// RTMP recordings decode clean: FFmpeg publishing as OBS does (-re, a test pattern and a tone, ~10 s) through the
// bridge, the SFU and plain RTP to the recorder's FFmpeg, whose RTP demuxer has no retransmission — any packet lost
// or stamped out of order on the way shows as a decode error or a non-monotonic timestamp in the VoD. Each VoD is
// decoded whole (every frame) and must give zero errors, last as long as the broadcast, and have a valid playlist.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { liveSession } from '../../shared/db/index.ts';
import { channelWithKey, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { startProcess } from '../helpers/process.ts';
import { checkPlaylistUrl, decodeWhole } from '../helpers/vod-check.ts';
import { until } from '../helpers/webrtc.ts';

const REDIS_URL = process.env.GLINT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = 10;

/** x264 settings of the two kinds of OBS output: copied as they are, or re-encoded by the bridge. */
const X264 = {
  baseline: ['-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '30'],
  defaults: [] as string[], // High profile, B-frames, 250-frame GOP
};

/** Publishes ~10 s over RTMP in real time and waits for the publisher to finish (-t stops it). */
async function broadcast(api: TestApi, key: string, x264: string[]): Promise<void> {
  const publisher = startProcess('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', String(SECONDS), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', ...x264, '-c:a', 'aac', '-b:a', '96k',
    '-f', 'flv', `rtmp://127.0.0.1:${api.sfu.rtmp!.port}/live/${key}`,
  ]);
  try {
    await new Promise<void>((resolve) => publisher.proc.once('exit', () => resolve()));
    assert.is(publisher.proc.exitCode, 0, `the publisher ran to its end\n${publisher.output()}`);
  } finally {
    await publisher.stop();
  }
}

/** The session's VoD once ready: decoded whole, zero errors, its playlist valid, as long as the broadcast. */
async function checkVod(api: TestApi, sessionCount: number, slug: string) {
  const client = api.client();
  const list = await until(() => client.get(`/api/channels/${slug}/vods`), (r) => r.body.items?.length === sessionCount && r.body.items[0]?.status === 'ready', 20_000);
  const v = list.body.items[0];
  assert.is(v?.status, 'ready', JSON.stringify(list.body));
  const url = api.base + v.playlistUrl;
  const { problems } = await checkPlaylistUrl(url, { ended: true });
  assert.equal(problems, [], 'a valid playlist');
  const decoded = await decodeWhole(url);
  assert.equal(decoded.streams, ['audio:aac', 'video:h264']);
  assert.equal(decoded.errors, [], `decodes whole with zero errors (${decoded.errors.length})`);
  return decoded.durationSeconds;
}

/** How long the RTMP broadcasts of `slug` lasted (first media to end, as the live sessions record them). */
async function sessionSeconds(api: TestApi, slug: string): Promise<number[]> {
  const { db } = api.deps.database;
  const ch = (await api.client().get(`/api/channels/${slug}`)).body;
  const rows = await until(() => db.select().from(liveSession).where(eq(liveSession.channelId, ch.id)), (rs) => rs.every((r) => !!r.endedAt), 10_000);
  return rows.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime()).map((r) => (r.endedAt!.getTime() - r.startedAt.getTime()) / 1000);
}

/** The VoD is as long as what was published (the ~10 s of -t), within half a second. */
function assertDuration(vodSeconds: number, sessions: number[]) {
  assert.ok(Math.abs(vodSeconds - SECONDS) <= 0.5, `VoD ${vodSeconds.toFixed(2)} s of a ${SECONDS} s broadcast (session ${sessions[0]?.toFixed(2)} s)`);
}

function integritySuite(name: string, env: Record<string, string>) {
  const t = suite<{ api: TestApi; owner: Client }>(name);
  t.before(async (ctx) => {
    ctx.api = await startTestApi(env);
    ctx.owner = await ctx.api.client().signUp(`Integrity ${randomUUID().slice(0, 8)}`);
  });
  t.after(async (ctx) => {
    await ctx.api?.stop();
  });
  return t;
}

const local = integritySuite('RTMP recording integrity', {});

local('baseline H.264, copied by the bridge: the VoD decodes whole with zero errors and lasts the broadcast', async ({ api, owner }) => {
  const key = await channelWithKey(owner, 'rtmp-int-copy');
  await broadcast(api, key, X264.baseline);
  assertDuration(await checkVod(api, 1, 'rtmp-int-copy'), await sessionSeconds(api, 'rtmp-int-copy'));
});

local('x264 defaults (High, B-frames), re-encoded by the bridge: the VoD decodes whole with zero errors and lasts the broadcast', async ({ api, owner }) => {
  const key = await channelWithKey(owner, 'rtmp-int-bframes');
  await broadcast(api, key, X264.defaults);
  assertDuration(await checkVod(api, 1, 'rtmp-int-bframes'), await sessionSeconds(api, 'rtmp-int-bframes'));
});

local('two broadcasts back to back on one channel: both VoDs decode whole with zero errors', async ({ api, owner }) => {
  const slug = 'rtmp-int-twice';
  const key = await channelWithKey(owner, slug);
  for (const n of [1, 2]) {
    await broadcast(api, key, X264.baseline);
    assertDuration(await checkVod(api, n, slug), await sessionSeconds(api, slug));
  }
});

local.run();

const redis = integritySuite('RTMP recording integrity over the Redis bus', { REDIS_URL, REDIS_PREFIX: `glint-test-rtmp-int-${process.pid}-${randomUUID().slice(0, 8)}:` });

redis('baseline H.264 with the Redis bus (REDIS_URL): the VoD decodes whole with zero errors and lasts the broadcast', async ({ api, owner }) => {
  const key = await channelWithKey(owner, 'rtmp-int-redis');
  await broadcast(api, key, X264.baseline);
  assertDuration(await checkVod(api, 1, 'rtmp-int-redis'), await sessionSeconds(api, 'rtmp-int-redis'));
});

redis.run();
