// RTMP ingest: FFmpeg publishes a test pattern with a tone over RTMP (as OBS would), the bridge turns it into RTP
// for the SFU, and Chromium plays it over WHEP. Covers copy vs re-encode (B-frames, profile), refused keys, and that
// every way a broadcast ends leaves no FFmpeg process behind.
import { execFileSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { liveSession } from '../../shared/db/index.ts';
import { runningBridges } from '../../sfu/rtmp/bridge.ts';
import { channelWithKey, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { startProcess } from '../helpers/process.ts';
import { ffmpegPublisher } from '../helpers/rtmp.ts';
import { until, view, viewerStats } from '../helpers/webrtc.ts';

type Ctx = { api: TestApi; owner: Client; browser: Browser; rtmp: string };
const t = suite<Ctx>('RTMP ingest');

t.before(async (ctx) => {
  ctx.api = await startTestApi({ PUBLISH_GRACE_MS: '3000' });
  ctx.owner = await ctx.api.client().signUp('Obs User');
  ctx.browser = await launchBrowser();
  ctx.rtmp = `rtmp://127.0.0.1:${ctx.api.sfu.rtmp!.port}/live`;
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
});

/** FFmpeg processes that are children of this test process (bridge and recorder; not the publisher, started apart). */
function ffmpegChildren(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), 'ffmpeg'], { encoding: 'utf8' })
      .split('\n').map(Number).filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

const sessionRow = async (api: TestApi, channelSlug: string) => {
  const { db } = api.deps.database;
  const ch = (await api.client().get(`/api/channels/${channelSlug}`)).body;
  return (await db.select().from(liveSession).where(eq(liveSession.channelId, ch.id)))[0];
};

const runs = [
  { name: 'libx264 defaults (High profile, B-frames)', x264: [], video: 'transcode', reason: /B-frames/ },
  { name: 'libx264 -tune zerolatency (High profile, no B-frames)', x264: ['-tune', 'zerolatency'], video: 'transcode', reason: /profile 64/ },
  { name: 'libx264 baseline, zerolatency, 1 s keyframes (OBS low-latency settings)', x264: ['-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '30'], video: 'copy', reason: undefined },
] as const;

for (const [i, run] of runs.entries()) {
  t(`${run.name}: bridged as ${run.video}; a Chromium viewer decodes video and receives audio; stop ends the session and no FFmpeg is left`, async ({ api, owner, browser, rtmp }) => {
    const slug = `rtmp-run-${i}`;
    const key = await channelWithKey(owner, slug);
    const live: string[] = [];
    const offline: string[] = [];
    const offs = [api.deps.bus.subscribe('channel.live', (e) => live.push(e.slug)), api.deps.bus.subscribe('channel.offline', (e) => e.slug === slug && offline.push(e.reason))];
    const publisher = ffmpegPublisher(`${rtmp}/${key}`, [...run.x264]);
    const page = await browser.context.newPage();
    try {
      const room = await until(async () => api.sfu.room(slug), (r) => !!r?.publisherId, 10_000);
      assert.ok(room?.publisherId, `the RTMP broadcast went live\n${publisher.output()}`);
      assert.is(room!.ingest?.source, 'rtmp');
      assert.is((room!.ingest as { video: string }).video, run.video);
      if (run.reason) assert.match((room!.ingest as { reason?: string }).reason ?? '', run.reason);
      assert.equal(room!.codecs.sort(), ['audio/opus', 'video/H264']);
      assert.equal(live, [slug]);
      assert.is((await sessionRow(api, slug))?.source, 'rtmp');
      assert.is((await owner.get(`/api/channels/${slug}`)).body.live?.source, 'rtmp', 'the API shows the channel live from RTMP');

      await page.goto(api.base + '/healthz');
      const v = await view(page, slug);
      assert.is(v.status, 201, v.body);
      const first = await until(() => viewerStats(page), (s) => s.framesDecoded > 15 && s.audioPackets > 20, 10_000);
      assert.ok(first.framesDecoded > 15, `viewer decodes video: ${JSON.stringify(first)}\n${publisher.output()}`);
      assert.ok(first.audioPackets > 20, `viewer receives audio: ${JSON.stringify(first)}`);
      assert.is(first.codec, 'video/H264');
      await new Promise((r) => setTimeout(r, 2000));
      const later = await viewerStats(page);
      assert.ok(later.framesDecoded >= first.framesDecoded + 40, `frames keep coming at ~30 fps: ${first.framesDecoded} → ${later.framesDecoded}`);
      assert.ok(later.audioPackets > first.audioPackets + 50, `audio keeps coming: ${first.audioPackets} → ${later.audioPackets}`);
      assert.is(runningBridges().length, 1, 'one bridge FFmpeg for the broadcast');

      const stoppedAt = Date.now();
      await publisher.stop(); // SIGTERM: FFmpeg closes the stream (FCUnpublish, deleteStream) like OBS's Stop Streaming
      const ended = await until(() => sessionRow(api, slug), (r) => !!r?.endedAt, 5_000);
      assert.ok(ended?.endedAt, 'the live session ended');
      assert.ok(Date.now() - stoppedAt < 3_000, `ended ${Date.now() - stoppedAt} ms after the publisher stopped (no grace wait for a clean stop)`);
      // the row is ended first, then channel.offline goes out (listeners hear broadcasts in order)
      assert.is(await until(async () => offline.length, (n) => n === 1, 5_000), 1, 'channel.offline announced');
      assert.is(await until(async () => runningBridges().length, (n) => n === 0, 5_000), 0, 'the bridge FFmpeg is gone');
      // the recorder's FFmpeg (it records every broadcast) ends a moment after the media stops
      assert.is(await until(async () => ffmpegChildren().length, (n) => n === 0, 8_000), 0, 'no FFmpeg process left');
    } finally {
      for (const off of offs) off();
      await publisher.stop();
      await page.close();
    }
  });
}

t('an unknown or revoked stream key is refused before any media; the refusal is explained to the client', async ({ api, owner, rtmp }) => {
  const slug = 'rtmp-refused';
  const key = await channelWithKey(owner, slug);
  for (const bad of ['glint_not-a-real-key', key]) {
    if (bad === key) {
      const [k] = (await owner.get(`/api/channels/${slug}/stream-keys`)).body;
      assert.is((await owner.delete(`/api/channels/${slug}/stream-keys/${k.id}`)).status, 204);
    }
    const publisher = ffmpegPublisher(`${rtmp}/${bad}`, ['-tune', 'zerolatency']);
    const code = await new Promise<number | null>((resolve) => publisher.proc.once('exit', (c) => resolve(c)));
    assert.ok(code !== 0, `FFmpeg was refused (exit ${code})`);
    assert.is(api.sfu.room(slug), undefined, 'no room was opened');
    assert.is(await sessionRow(api, slug), undefined, 'no live session');
    assert.is(runningBridges().length, 0, 'no bridge started');
  }
});

t('the wrong application and RTMP playback are refused', async ({ api, owner, rtmp }) => {
  const key = await channelWithKey(owner, 'rtmp-wrong-app');
  const publisher = ffmpegPublisher(`${rtmp.replace(/\/live$/, '/other')}/${key}`, ['-tune', 'zerolatency']);
  const code = await new Promise<number | null>((resolve) => publisher.proc.once('exit', (c) => resolve(c)));
  assert.ok(code !== 0);
  assert.is(api.sfu.room('rtmp-wrong-app'), undefined);
  const player = startProcess('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', `${rtmp}/${key}`, '-t', '1', '-f', 'null', '-']);
  const playCode = await new Promise<number | null>((resolve) => player.proc.once('exit', (c) => resolve(c)));
  assert.ok(playCode !== 0, 'RTMP play is not served');
});

t('a publisher that vanishes (killed, no goodbye) ends the session after the grace period; a killed bridge FFmpeg too', async ({ api, owner, rtmp }) => {
  const slug = 'rtmp-killed';
  const key = await channelWithKey(owner, slug);
  for (const victim of ['publisher', 'bridge'] as const) {
    const publisher = ffmpegPublisher(`${rtmp}/${key}`, ['-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '30']);
    try {
      const room = await until(async () => api.sfu.room(slug), (r) => !!r?.publisherId && r.codecs.length === 2, 10_000);
      assert.ok(room?.publisherId, publisher.output());
      await until(() => room!.producerStats(), (s) => s.length === 2 && s.every((x) => x.packetCount > 10), 5_000);
      const bridges = runningBridges();
      assert.is(bridges.length, 1);
      const killedAt = Date.now();
      process.kill(victim === 'publisher' ? publisher.proc.pid! : bridges[0]!, 'SIGKILL');
      const ended = await until(async () => (await api.deps.database.db.select().from(liveSession).where(eq(liveSession.id, room!.sessionId!)))[0], (r) => !!r?.endedAt, 12_000);
      assert.ok(ended?.endedAt, `${victim} killed: the session ended`);
      const after = Date.now() - killedAt;
      assert.ok(after < 3000 + 6000, `${victim} killed: ended after ${after} ms (grace 3 s)`);
      assert.is(await until(async () => runningBridges().length, (n) => n === 0, 5_000), 0, `${victim} killed: no bridge FFmpeg left`);
    } finally {
      await publisher.stop();
    }
  }
});

t('GET /api/ingest tells the studio where to send RTMP and WHIP', async ({ api }) => {
  const res = await api.client().get('/api/ingest');
  assert.is(res.status, 200);
  assert.is(res.body.rtmp, `rtmp://127.0.0.1:${api.sfu.rtmp!.port}/live`);
  assert.is(res.body.whip, `${api.base}/whip/{channel}`);
});

t.run();
