// A recording that captured nothing, or next to nothing, is never a ready VoD: it ends `failed` with a reason that
// its channel's owner sees in their own list (and can open and delete), while viewers never see it.
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { liveSuite, withBroadcast } from '../helpers/live-suite.ts';
import { runningRecorders } from '../../recorder/Recording.ts';
import { channelWithKey, type Client, type TestApi } from '../helpers/api.ts';
import type { Browser } from '../helpers/browser.ts';
import { startProcess } from '../helpers/process.ts';
import { listedVod, mediaStarts, type Broadcast } from '../helpers/recording.ts';
import { unpublish, until } from '../helpers/webrtc.ts';

const t = liveSuite('failed recordings', { owner: 'Failing Caster', env: { WHIP_AUTH_FAILURES_PER_MINUTE: '1000' } });

/** The broadcast's recording once it has ended: failed with a reason for the owner, invisible to anyone else. */
async function failedFor(api: TestApi, owner: Client, b: Broadcast, reason: RegExp, browser: Browser) {
  const v = await until(() => listedVod(owner, b), (x) => !!x && x.status !== 'recording', 20_000);
  assert.is(v?.status, 'failed', JSON.stringify(v));
  assert.match(v!.failureReason ?? '', reason);
  const own = await owner.get(`/api/vods/${v!.id}`);
  assert.is(own.status, 200, 'the owner opens it');
  assert.is(own.body.failureReason, v!.failureReason);
  const viewer = await api.client().signUp('Passer By');
  for (const who of [viewer, api.client()]) {
    const list = await who.get(`/api/channels/${b.slug}/vods`);
    assert.is(list.status, 200);
    assert.ok(!list.body.items.some((x: { id: string }) => x.id === v!.id), 'not listed for viewers');
    assert.is((await who.get(`/api/vods/${v!.id}`)).status, 404, 'nor found by its id');
  }
  // the owner's pages say so: the channel's list marks it, its page gives the reason instead of a player
  const { context } = browser;
  await context.addCookies([...owner.cookies].map(([name, value]) => ({ name, value, url: api.base })));
  const page = await context.newPage();
  try {
    await page.goto(`${api.base}/c/${b.slug}`);
    await page.getByTestId('vod-card-failed').waitFor();
    await page.getByTestId('vod-card').first().click();
    const why = (await page.getByTestId('vod-failed').textContent()) ?? '';
    assert.match(why, v!.failureReason!, 'the VoD page says why it was not recorded');
    assert.is(await page.getByTestId('vod-video').count(), 0, 'and offers no player');
  } finally {
    await page.close();
    await context.clearCookies();
  }
  assert.is((await owner.delete(`/api/vods/${v!.id}`)).status, 204, 'the owner deletes it');
  assert.is(await until(async () => runningRecorders().length, (n) => n === 0, 10_000), 0, 'no recording FFmpeg left');
}

t('a broadcast ended half a second after its media began: failed (too short, or nothing recorded), never a ready VoD of a blink', async (ctx) => {
  await withBroadcast(ctx, 'failed-short', async (page, b) => {
    await new Promise((r) => setTimeout(r, 500));
    assert.is(await unpublish(page), 200);
    // a loaded machine may not have cut a segment yet: then nothing was recorded at all
    await failedFor(ctx.api, ctx.owner, b, /too short|nothing was recorded/, ctx.browser);
  });
});

t('a publisher whose video the SFU cannot forward (VP8 without PictureID): failed, with why, for the owner only', async ({ api, owner, browser }) => {
  const slug = 'failed-unforwarded';
  const key = await channelWithKey(owner, slug);
  const script = fileURLToPath(new URL('../helpers/whip-gst.py', import.meta.url));
  const gst = startProcess('/usr/bin/python3', [script, `${api.base}/whip/${slug}`, key, '--codec', 'vp8', '--vp8-picture-id', 'none', '--seconds', '6']);
  try {
    const b = await mediaStarts(api, slug);
    await until(async () => gst.proc.exitCode, (c) => c !== null, 20_000);
    await failedFor(api, owner, b, /./, browser);
  } finally {
    await gst.stop();
  }
});

t.run();
