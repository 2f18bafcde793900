// The recorder: a Chromium broadcast (WHIP, VP8 and H.264) or an FFmpeg one (RTMP) becomes an HLS VoD — segments of
// about 2 s, H.264 video and AAC audio (ffprobe), a duration matching the broadcast — that a Chromium page plays
// with hls.js; and recording survives its FFmpeg being killed.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import * as assert from 'uvu/assert';
import { liveSuite } from '../helpers/live-suite.ts';
import { liveSession } from '../../shared/db/index.ts';
import { runningRecorders } from '../../recorder/Recording.ts';
import { parsePlaylist } from '../../recorder/hls.ts';
import { channelWithKey, type TestApi } from '../helpers/api.ts';
import { startProcess } from '../helpers/process.ts';
import { playVod } from '../helpers/vod-check.ts';
import { publish, unpublish, until } from '../helpers/webrtc.ts';

const t = liveSuite('recorder', { owner: 'Recorder' });

/** ffprobe on an HLS URL this process serves (asynchronously: a synchronous child would block the server). */
async function ffprobe(url: string) {
  const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name:format=duration', '-of', 'json', url], { encoding: 'utf8' });
  return JSON.parse(stdout) as {
    streams: { codec_type: string; codec_name: string }[];
    format: { duration: string };
  };
}

/** Waits for the channel's newest VoD to be ready; checks its playlist, files and media; returns it. */
async function readyVod(api: TestApi, slug: string, broadcastSeconds: number) {
  const client = api.client();
  const list = await until(() => client.get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'ready', 10_000);
  const v = list.body.items[0];
  assert.is(v?.status, 'ready', JSON.stringify(list.body));
  // no title was given for this broadcast: the channel's at the time and when it started
  assert.match(v.title, new RegExp(`^Title of ${slug} · \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC$`), 'titled after the channel at the time');
  const playlist = await fetch(api.base + v.playlistUrl);
  assert.is(playlist.status, 200);
  assert.match(playlist.headers.get('content-type') ?? '', /mpegurl/);
  const text = await playlist.text();
  assert.match(text, /#EXT-X-PLAYLIST-TYPE:EVENT/);
  assert.match(text, /#EXT-X-ENDLIST/);
  const parsed = parsePlaylist(text);
  assert.ok(parsed.segments.length >= 3, `segments: ${parsed.segments.length}`);
  for (const s of parsed.segments) assert.ok(s.duration <= 3.05, `segment ${s.uri} is ${s.duration} s (≤ 3 s)`);
  for (const s of parsed.segments) assert.is((await fetch(new URL(s.uri, api.base + v.playlistUrl))).status, 200, `${s.uri} is there`);
  const probe = await ffprobe(api.base + v.playlistUrl);
  assert.equal(probe.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort(), ['audio:aac', 'video:h264']);
  const duration = Number(probe.format.duration);
  assert.ok(Math.abs(duration - v.durationSeconds) < 0.5, `ffprobe ${duration} s vs listed ${v.durationSeconds} s`);
  assert.ok(Math.abs(duration - broadcastSeconds) <= 1, `VoD ${duration.toFixed(2)} s vs broadcast ${broadcastSeconds.toFixed(2)} s`);
  const withPoster = await until(() => client.get(`/api/vods/${v.id}`), (r) => !!r.body.posterUrl, 5000);
  assert.ok(withPoster.body.posterUrl, 'a poster (made right after the VoD is ready)');
  const poster = await fetch(api.base + withPoster.body.posterUrl);
  assert.is(poster.headers.get('content-type'), 'image/jpeg');
  assert.ok((await poster.arrayBuffer()).byteLength > 1000);
  assert.is(runningRecorders().length, 0, 'no recording FFmpeg left');
  return v as { id: string; playlistUrl: string; durationSeconds: number };
}

/** The broadcast's length: from its first media (when given; the live session starts at the WHIP request, before
 * ICE and DTLS, which take longer on a loaded machine) or its live session's start, to the session's end. */
async function broadcastSeconds(api: TestApi, sessionId: string, mediaFrom?: number) {
  const [row] = await api.deps.database.db.select().from(liveSession).where(eq(liveSession.id, sessionId));
  return (row!.endedAt!.getTime() - (mediaFrom ?? row!.startedAt.getTime())) / 1000;
}

for (const codec of ['VP8', 'H264'] as const) {
  t(`${codec} over WHIP for ~12 s → an HLS VoD with H.264 + AAC, 2 s segments, the broadcast's duration, playable in hls.js`, async ({ api, owner, browser }) => {
    const slug = `rec-${codec.toLowerCase()}`;
    const key = await channelWithKey(owner, slug, `Title of ${slug}`);
    const page = await browser.context.newPage();
    try {
      await page.goto(api.base + '/healthz');
      const p = await publish(page, { slug, key, codec });
      assert.is(p.status, 201, p.body);
      await until(async () => (await api.sfu.room(slug)?.producerStats())?.some((s) => s.kind === 'video' && s.packetCount > 0) ?? false, (x) => x, 10_000);
      const mediaFrom = Date.now();
      const during = await until(() => api.client().get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'recording', 5000);
      assert.is(during.body.items[0]?.status, 'recording', 'listed while live');
      await new Promise((r) => setTimeout(r, 7000));
      let previewUrl = '';
      if (codec === 'VP8') {
        // while live: the channel's preview image (a recent frame) shows on its card in the live list
        previewUrl = (await owner.get(`/api/channels/${slug}`)).body.live.previewUrl;
        const img = await fetch(api.base + previewUrl);
        assert.is(img.status, 200, 'a live preview exists once the first segment is recorded');
        assert.is(img.headers.get('content-type'), 'image/jpeg');
        const home = await browser.context.newPage();
        await home.goto(api.base + '/');
        const card = home.locator(`[data-testid="channel-card"][data-slug="${slug}"] [data-testid="card-preview"]`);
        await card.waitFor();
        await home.waitForFunction((sel) => ((document.querySelector(sel) as HTMLImageElement)?.naturalWidth ?? 0) > 0, `[data-slug="${slug}"] [data-testid="card-preview"]`);
        await home.close();
        // the channel lists the recording, and its page plays the broadcast from its start (DVR)
        const dvr = await browser.context.newPage();
        await dvr.goto(`${api.base}/c/${slug}`);
        // the card rewinds the channel page's own player into the recording in progress, in place
        await dvr.getByText('live now — watch from the start').click();
        await dvr.locator('[data-testid="player"][data-mode="dvr"]').waitFor();
        const from = await dvr.evaluate(async () => {
          const video = document.querySelector('[data-testid="player-video"]') as HTMLVideoElement;
          video.muted = true;
          const start = performance.now();
          while (video.readyState < 2 && performance.now() - start < 10_000) await new Promise((r) => setTimeout(r, 100));
          const first = video.currentTime;
          await video.play().catch(() => undefined);
          while (video.currentTime < first + 1 && performance.now() - start < 15_000) await new Promise((r) => setTimeout(r, 100));
          return { first, now: video.currentTime };
        });
        await dvr.close();
        assert.ok(from.first < 1, `starts at the beginning of the broadcast (${from.first} s)`);
        assert.ok(from.now >= from.first + 1, `and plays on (${JSON.stringify(from)})`);
      }
      await new Promise((r) => setTimeout(r, 5000));
      const sessionId = api.sfu.room(slug)!.sessionId!;
      const stoppedAt = Date.now();
      await unpublish(page);
      const v = await readyVod(api, slug, await until(() => broadcastSeconds(api, sessionId, mediaFrom).catch(() => NaN), (s) => s > 0, 5000));
      if (previewUrl) assert.is((await fetch(api.base + previewUrl)).status, 404, 'no preview once the channel is offline');
      console.log(`    ${codec}: VoD ready ${Date.now() - stoppedAt} ms after the broadcast ended (incl. polling and checks)`);

      // as a viewer would: the channel page lists the broadcast, its page plays it (hls.js in Chromium)
      const player = await browser.context.newPage();
      await player.goto(`${api.base}/c/${slug}`);
      await player.getByTestId('vod-card').first().click();
      await player.getByTestId('vod-page').waitFor();
      assert.match(player.url(), new RegExp(`/v/${v.id}$`));
      assert.match((await player.getByTestId('vod-duration').textContent()) ?? '', /0:1\d/);
      const played = await playVod(player, { until: 3, haveState: 2 });
      await player.close();
      assert.ok(played.hlsJs, 'played through hls.js');
      assert.is(played.ui, '', 'the player shows no error');
      assert.ok(played.currentTime >= 3, `hls.js plays: ${JSON.stringify(played)}`);
      assert.equal(played.errors, [], 'no media errors');
      assert.ok(played.width > 0, 'video frames');
    } finally {
      await page.close();
    }
  });
}

t('an RTMP broadcast is recorded the same way', async ({ api, owner }) => {
  const slug = 'rec-rtmp';
  const key = await channelWithKey(owner, slug, `Title of ${slug}`);
  const publisher = startProcess('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', '10', '-c:v', 'libx264', '-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${api.sfu.rtmp!.port}/live/${key}`,
  ]);
  try {
    const room = await until(async () => api.sfu.room(slug), (r) => !!r?.sessionId, 10_000);
    const sessionId = room!.sessionId!;
    await new Promise<void>((resolve) => publisher.proc.once('exit', () => resolve())); // -t 10: it stops by itself
    await readyVod(api, slug, await until(() => broadcastSeconds(api, sessionId).catch(() => NaN), (s) => s > 0, 5000));
  } finally {
    await publisher.stop();
  }
});

t('the recording FFmpeg killed mid-broadcast: recording goes on in the same playlist, everything stays playable', async ({ api, owner, browser }) => {
  const slug = 'rec-killed';
  const key = await channelWithKey(owner, slug, `Title of ${slug}`);
  const page = await browser.context.newPage();
  try {
    await page.goto(api.base + '/healthz');
    const p = await publish(page, { slug, key, codec: 'H264' });
    assert.is(p.status, 201, p.body);
    await new Promise((r) => setTimeout(r, 6000));
    const [victim] = runningRecorders();
    assert.ok(victim, 'a recording FFmpeg runs');
    process.kill(victim, 'SIGKILL');
    const replaced = await until(async () => runningRecorders(), (pids) => pids.length === 1 && pids[0] !== victim, 5000);
    assert.ok(replaced.length === 1 && replaced[0] !== victim, 'a new FFmpeg records on');
    await new Promise((r) => setTimeout(r, 6000));
    const sessionId = api.sfu.room(slug)!.sessionId!;
    await unpublish(page);
    const client = api.client();
    const list = await until(() => client.get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'ready', 10_000);
    const v = list.body.items[0];
    const text = await (await fetch(api.base + v.playlistUrl)).text();
    assert.match(text, /#EXT-X-DISCONTINUITY/, 'the restart is marked');
    assert.match(text, /#EXT-X-ENDLIST/);
    const probe = await ffprobe(api.base + v.playlistUrl);
    assert.equal(probe.streams.map((s) => s.codec_type).sort(), ['audio', 'video']);
    const broadcast = await broadcastSeconds(api, sessionId);
    // lost: the segment being written when FFmpeg died (≤ 2 s) and the restart until the next keyframe (~1.5 s)
    assert.ok(v.durationSeconds >= broadcast - 4.5, `VoD ${v.durationSeconds} s of a ${broadcast.toFixed(1)} s broadcast`);
    assert.is(await until(async () => runningRecorders().length, (n) => n === 0, 5000), 0);
  } finally {
    await page.close();
  }
});

t.run();
