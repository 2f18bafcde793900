// A publisher pauses (its tracks replaced by nothing for a few seconds, as a camera switch or a muted source does) or
// its simulcast layers change mid-broadcast: the recording keeps going. The VoD holds the whole broadcast — a pause cut
// out at a discontinuity rather than frozen video —, still probes as H.264 + AAC, and hls.js plays across the gap.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import * as assert from 'uvu/assert';
import { liveSuite, type LiveCtx } from '../helpers/live-suite.ts';
import { liveSession } from '../../shared/db/index.ts';
import { runningRecorders } from '../../recorder/Recording.ts';
import { channelWithKey } from '../helpers/api.ts';
import { playVod } from '../helpers/vod-check.ts';
import { publish, unpublish, until } from '../helpers/webrtc.ts';

type Ctx = LiveCtx;
const t = liveSuite('recording through a publisher pause and a layer switch', { owner: 'Pauser' });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function probe(url: string) {
  const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name:format=duration', '-of', 'json', url], { encoding: 'utf8' });
  return JSON.parse(stdout) as { streams: { codec_type: string; codec_name: string }[]; format: { duration: string } };
}

/** Seconds of the playlist after its last discontinuity (all of it when there is none). */
function secondsAfterLastDiscontinuity(text: string): number {
  const tail = text.slice(Math.max(0, text.lastIndexOf('#EXT-X-DISCONTINUITY\n#EXTINF')));
  return [...tail.matchAll(/#EXTINF:([\d.]+)/g)].reduce((a, m) => a + Number(m[1]), 0);
}

/**
 * Publishes, runs `middle` in the page after 5 s (it lasts `gapSeconds`), records 5 s more and stops; then checks
 * that the VoD holds the broadcast (less the gap), that what followed the gap was recorded, and that hls.js plays it.
 */
async function recordAround(ctx: Ctx, slug: string, opts: { codec: 'VP8' | 'H264'; simulcast?: boolean; gapSeconds: number }, middle: () => Promise<void>) {
  const { api, owner, browser } = ctx;
  const key = await channelWithKey(owner, slug, slug);
  const page = await browser.context.newPage();
  try {
    await page.goto(api.base + '/healthz');
    const p = await publish(page, { slug, key, codec: opts.codec, simulcast: opts.simulcast });
    assert.is(p.status, 201, p.body);
    const sessionId = api.sfu.room(slug)!.sessionId!;
    await sleep(5000);
    await page.evaluate(middle);
    await sleep(5000);
    await unpublish(page);
    const list = await until(() => api.client().get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'ready', 15_000);
    const v = list.body.items[0];
    assert.is(v?.status, 'ready', JSON.stringify(list.body));
    const [row] = await api.deps.database.db.select().from(liveSession).where(eq(liveSession.id, sessionId));
    const broadcast = (row!.endedAt!.getTime() - row!.startedAt.getTime()) / 1000;
    const text = await (await fetch(api.base + v.playlistUrl)).text();
    const media = await probe(api.base + v.playlistUrl);
    assert.equal(media.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort(), ['audio:aac', 'video:h264']);
    const duration = Number(media.format.duration);
    const context = `VoD ${duration.toFixed(1)} s of a ${broadcast.toFixed(1)} s broadcast with a ${opts.gapSeconds} s gap\n${text}`;
    // everything but the gap is there (a pause is cut out, marked by a discontinuity — not frozen video) …
    assert.ok(duration >= broadcast - opts.gapSeconds - 1, context);
    assert.ok(duration <= broadcast + 1, context);
    // … and in particular the 5 s after it: the recording did not stop at the pause
    const after = secondsAfterLastDiscontinuity(text);
    assert.ok(after >= 4.5, `${after.toFixed(1)} s recorded after the resume; ${context}`);
    assert.is(runningRecorders().length, 0, 'no recording FFmpeg left');

    // hls.js plays across it: from 6 s before the end to 1.5 s before the end
    const player = await browser.context.newPage();
    await player.goto(`${api.base}/v/${v.id}`);
    await player.getByTestId('vod-page').waitFor();
    const played = await playVod(player, { from: duration - 6, until: duration - 1.5, haveState: 1 });
    await player.close();
    assert.ok(played.currentTime >= duration - 1.5, `hls.js plays to the end: ${JSON.stringify(played)} of ${duration.toFixed(1)} s`);
    assert.equal(played.errors, []);
    assert.is(played.ui, '');
    return { duration, broadcast, after };
  } finally {
    await page.close();
  }
}

for (const codec of ['VP8', 'H264'] as const) {
  t(`${codec}: both tracks paused for 3 s (replaceTrack(null)) and resumed → the VoD covers the whole broadcast`, async (ctx) => {
    const r = await recordAround(ctx, `pause-${codec.toLowerCase()}`, { codec, gapSeconds: 3 }, async () => {
      const pc = (window as any).__pub.pc as RTCPeerConnection;
      const senders = pc.getSenders().filter((s) => s.track);
      const tracks = senders.map((s) => s.track);
      await Promise.all(senders.map((s) => s.replaceTrack(null)));
      await new Promise((r) => setTimeout(r, 3000));
      await Promise.all(senders.map((s, i) => s.replaceTrack(tracks[i]!)));
    });
    console.log(`    ${codec} pause: VoD ${r.duration.toFixed(1)} s of a ${r.broadcast.toFixed(1)} s broadcast, ${r.after.toFixed(1)} s after the resume`);
  });
}

t('simulcast: the top layer switched off and on mid-broadcast → the recording follows without a gap', async (ctx) => {
  const r = await recordAround(ctx, 'layers', { codec: 'VP8', simulcast: true, gapSeconds: 0 }, async () => {
    const pc = (window as any).__pub.pc as RTCPeerConnection;
    const sender = pc.getSenders().find((s) => s.track?.kind === 'video')!;
    for (const active of [false, true]) {
      const params = sender.getParameters();
      for (const e of params.encodings) if (e.rid === 'f' || e.rid === 'h') e.active = active;
      await sender.setParameters(params);
      if (!active) await new Promise((r) => setTimeout(r, 3000));
    }
  });
  console.log(`    simulcast layer switch: VoD ${r.duration.toFixed(1)} s of a ${r.broadcast.toFixed(1)} s broadcast, ${r.after.toFixed(1)} s after the switch back`);
});

t.run();
