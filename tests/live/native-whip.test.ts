// Live: a native (non-browser) WHIP publisher — GStreamer's webrtcbin, driven by tests/helpers/whip-gst.py — sends
// H.264 Constrained Baseline (42c0xx, as webrtcbin offers it) and VP8 into the SFU on 127.0.0.1; a Chromium viewer
// decodes its video and receives its audio over WHEP, and its DELETE ends the broadcast.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channelWithKey, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { capturingLogger, LEVEL, type LogLine } from '../helpers/log.ts';
import { startProcess } from '../helpers/process.ts';
import { until, view, viewerStats } from '../helpers/webrtc.ts';

const PUBLISHER = fileURLToPath(new URL('../helpers/whip-gst.py', import.meta.url));
// the system Python, where Debian's python3-gi and GStreamer's typelibs are
const PYTHON = '/usr/bin/python3';

const vp8Warnings = (lines: LogLine[], slug: string) => lines.filter((l) => l.level === LEVEL.warn && l.channel === slug && /VP8 video without PictureID/.test(l.msg));

type Ctx = { api: TestApi; owner: Client; browser: Browser; dir: string; lines: LogLine[] };
const t = suite<Ctx>('a native WHIP publisher (GStreamer webrtcbin)');

t.before(async (ctx) => {
  const { log, lines } = capturingLogger();
  ctx.lines = lines;
  ctx.api = await startTestApi({ WHIP_AUTH_FAILURES_PER_MINUTE: '1000' }, { log });
  ctx.owner = await ctx.api.client().signUp('Native Caster');
  ctx.browser = await launchBrowser();
  ctx.dir = mkdtempSync(join(tmpdir(), 'glint-gst-'));
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

for (const codec of ['h264', 'vp8'] as const) {
  t(`webrtcbin publishing ${codec === 'h264' ? 'H.264 Constrained Baseline' : 'VP8'} over WHIP: a WHEP viewer decodes video and gets audio; its DELETE ends the broadcast`, async ({ api, owner, browser, dir, lines }) => {
    const slug = `native-${codec}`;
    const key = await channelWithKey(owner, slug);
    const offerFile = join(dir, `${codec}.sdp`);
    const offline: string[] = [];
    const off = api.deps.bus.subscribe('channel.offline', (e) => offline.push(e.slug));
    const gst = startProcess(PYTHON, [PUBLISHER, `${api.base}/whip/${slug}`, key, '--codec', codec, '--seconds', '12', '--offer-out', offerFile]);
    const exited = new Promise<number | null>((resolve) => gst.proc.once('exit', (code) => resolve(code)));
    const page = await browser.context.newPage();
    try {
      const answered = await until(async () => gst.output(), (o) => /answered|error/.test(o), 20_000);
      assert.match(answered, /answered/, answered);
      const offer = readFileSync(offerFile, 'utf8');
      if (codec === 'h264') assert.match(offer, /profile-level-id=42c0/i, 'webrtcbin offers Constrained Baseline as 42c0xx');
      await page.goto(api.base + '/');
      const v = await view(page, slug);
      assert.is(v.status, 201, v.body);
      const stats = await until(() => viewerStats(page), (s) => s.framesDecoded > 10 && s.audioPackets > 20, 10_000);
      assert.ok(stats.framesDecoded > 10 && stats.audioPackets > 20, `${JSON.stringify(stats)}\n${offer}`);
      assert.is(stats.codec, codec === 'h264' ? 'video/H264' : 'video/VP8');
      assert.is(await exited, 0, gst.output());
      assert.match(gst.output(), /deleted 200/);
      const ended = await until(async () => offline, (o) => o.includes(slug), 5_000);
      assert.ok(ended.includes(slug), 'channel.offline announced after the DELETE');
      assert.is(api.sfu.room(slug), undefined, 'the room is gone');
      assert.is(vp8Warnings(lines, slug).length, 0, 'video that was forwarded is not warned about');
    } finally {
      off();
      await page.close();
      await gst.stop();
    }
  });
}

t('VP8 without PictureID (rtpvp8pay picture-id-mode=none), which mediasoup cannot forward, is named in a warning', async ({ api, owner, lines }) => {
  const slug = 'native-vp8-bare';
  const key = await channelWithKey(owner, slug);
  const gst = startProcess(PYTHON, [PUBLISHER, `${api.base}/whip/${slug}`, key, '--codec', 'vp8', '--vp8-picture-id', 'none', '--seconds', '8']);
  try {
    const warned = await until(async () => vp8Warnings(lines, slug), (w) => w.length > 0, 20_000);
    assert.is(warned.length, 1, gst.output());
    assert.ok((warned[0]!.packets as number) > 0);
  } finally {
    await gst.stop();
  }
});

t.run();
