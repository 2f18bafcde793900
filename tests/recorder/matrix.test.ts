// The recording matrix: every kind of publisher the SFU takes over WebRTC, recorded alone, becomes a VoD that decodes
// whole with zero errors and lasts as long as the broadcast's media, with a valid playlist while live and after.
// To cover another publisher, add it to PUBLISHERS. (RTMP recordings are covered in rtmp-integrity.test.ts.)
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { liveSuite, type LiveCtx } from '../helpers/live-suite.ts';
import { runningRecorders } from '../../recorder/Recording.ts';
import { channelWithKey } from '../helpers/api.ts';
import { startProcess } from '../helpers/process.ts';
import { checkRecordedWhole, checkWhileLive, mediaStarts } from '../helpers/recording.ts';
import { publish, unpublish, until } from '../helpers/webrtc.ts';

type Ctx = LiveCtx;
/**
 * A running publisher: `end()` ends its broadcast (a DELETE of its WHIP session) and resolves when it has; `sendsFrom`,
 * when the publisher times its own broadcast, is when it began sending (else the first video the SFU receives).
 */
type Running = { end(): Promise<void>; sendsFrom?: number };
type Publisher = { name: string; start(ctx: Ctx, slug: string, key: string, seconds: number): Promise<Running> };

/** How long each broadcast sends media. */
const SECONDS = 10;

const chromium = (codec: 'VP8' | 'H264', simulcast = false): Publisher['start'] => async ({ api, browser }, slug, key) => {
  const page = await browser.context.newPage();
  await page.goto(api.base + '/healthz');
  const p = await publish(page, { slug, key, codec, simulcast });
  assert.is(p.status, 201, p.body);
  return {
    end: async () => {
      assert.is(await unpublish(page), 200);
      await page.close();
    },
  };
};

const PUBLISHER = fileURLToPath(new URL('../helpers/whip-gst.py', import.meta.url));
/** GStreamer's webrtcbin (tests/helpers/whip-gst.py): it sends for as long as it is told, then DELETEs by itself. */
const gstreamer = (codec: 'h264' | 'vp8'): Publisher['start'] => async ({ api }, slug, key, seconds) => {
  const gst = startProcess('/usr/bin/python3', [PUBLISHER, `${api.base}/whip/${slug}`, key, '--codec', codec, '--seconds', String(seconds)]);
  const exited = new Promise<number | null>((resolve) => gst.proc.once('exit', (code) => resolve(code)));
  await until(async () => gst.output(), (o) => /playing|error/.test(o), 20_000);
  const playing = Date.now();
  // it sends for `--seconds` from its answer, audio at once — its video reaches the SFU up to ~2 s later
  await until(async () => gst.output(), (o) => /answered|error/.test(o), 20_000);
  assert.match(gst.output(), /answered/, gst.output());
  return {
    // Copied H.264 keeps the publisher's own timestamps, and webrtcbin sends the keyframe it encoded first, when its
    // pipeline started playing (before ICE and DTLS), then the frames from the connection on: its media starts then.
    // VP8 is decoded, and decoding starts at the first keyframe after the connection.
    sendsFrom: codec === 'h264' ? playing : Date.now(),
    end: async () => {
      assert.is(await exited, 0, gst.output());
      assert.match(gst.output(), /deleted 200/);
    },
  };
};

const PUBLISHERS: Publisher[] = [
  { name: 'Chromium VP8', start: chromium('VP8') },
  { name: 'Chromium H.264', start: chromium('H264') },
  { name: 'Chromium VP8 simulcast (three layers)', start: chromium('VP8', true) },
  { name: 'GStreamer webrtcbin VP8', start: gstreamer('vp8') },
  // x264 with sliced threads, SPS/PPS repeated before every IDR slice (recorder/h264-relay.ts)
  { name: 'GStreamer webrtcbin H.264', start: gstreamer('h264') },
];

const t = liveSuite('recording matrix', { owner: 'Matrix', env: { WHIP_AUTH_FAILURES_PER_MINUTE: '1000' } });

PUBLISHERS.forEach((pub, i) => {
  t(`${pub.name}: recorded whole — a valid playlist while live and after, decoded with zero errors, the broadcast's duration`, async (ctx) => {
    const { api, owner } = ctx;
    const slug = `matrix-${i}`;
    const key = await channelWithKey(owner, slug);
    const running = await pub.start(ctx, slug, key, SECONDS);
    const b = { ...(await mediaStarts(api, slug)), ...(running.sendsFrom ? { mediaFrom: running.sendsFrom } : {}) };
    await checkWhileLive(api, owner, b);
    // the GStreamer publisher ends by itself; the others are ended at SECONDS of media
    if (!running.sendsFrom) await new Promise((r) => setTimeout(r, Math.max(0, SECONDS * 1000 - (Date.now() - b.mediaFrom))));
    await running.end();
    const r = await checkRecordedWhole(api, owner, b);
    console.log(`    ${pub.name}: VoD ${r.seconds.toFixed(2)} s of a ${r.broadcast.toFixed(2)} s broadcast`);
    assert.is(await until(async () => runningRecorders().length, (n) => n === 0, 10_000), 0, 'no recording FFmpeg left');
  });
});

t.run();
