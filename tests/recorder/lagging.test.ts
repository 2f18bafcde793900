// A recording FFmpeg that falls behind (a loaded machine: here it is stopped with SIGSTOP for the broadcast's last
// two seconds) still records the broadcast to its end: the recorder lets it read what was already sent before the
// RTCP BYE ends its input — FFmpeg reads a BYE ahead of the RTP waiting in its sockets, and ended the track there.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runningRecorders } from '../../recorder/Recording.ts';
import { channelWithKey, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { checkRecordedWhole, mediaStarts } from '../helpers/recording.ts';
import { publish, unpublish, until } from '../helpers/webrtc.ts';

type Ctx = { api: TestApi; owner: Client; browser: Browser };
const t = suite<Ctx>('a lagging recording FFmpeg');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Lagging');
  ctx.browser = await launchBrowser({ fakeMedia: true });
});
t.after(async (ctx) => {
  for (const pid of runningRecorders()) process.kill(pid, 'SIGCONT');
  await ctx.browser?.close();
  await ctx.api?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t('FFmpeg stopped for the last 2 s of an 8 s broadcast, then let go → the VoD still holds the whole broadcast', async ({ api, owner, browser }) => {
  const slug = 'lagging';
  const key = await channelWithKey(owner, slug);
  const page = await browser.context.newPage();
  try {
    await page.goto(api.base + '/healthz');
    assert.is((await publish(page, { slug, key, codec: 'VP8' })).status, 201);
    const b = await mediaStarts(api, slug);
    await sleep(6000);
    const [pid] = runningRecorders();
    assert.ok(pid, 'a recording FFmpeg runs');
    process.kill(pid!, 'SIGSTOP');
    try {
      await sleep(2000);
      assert.is(await unpublish(page), 200);
      // the broadcast has ended and what it sent waits in FFmpeg's sockets; FFmpeg runs again a moment later
      await sleep(500);
    } finally {
      process.kill(pid!, 'SIGCONT');
    }
    const r = await checkRecordedWhole(api, owner, b);
    console.log(`    lagging FFmpeg: VoD ${r.seconds.toFixed(2)} s of a ${r.broadcast.toFixed(2)} s broadcast`);
    assert.is(await until(async () => runningRecorders().length, (n) => n === 0, 10_000), 0, 'no recording FFmpeg left');
  } finally {
    await page.close();
  }
});

t.run();
