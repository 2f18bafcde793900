// A recording that stops while its broadcast goes on (the recorder service closing) says so to the SFU (the
// recorder protocol's `detach`): the room closes the recorder's consumers and plain transports at once, instead of
// sending RTP to nobody until the heartbeat timeout (RECORDER_GONE_MS) notices.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runningRecorders } from '../../recorder/Recording.ts';
import { RECORDER_GONE_MS } from '../../shared/recorder-protocol.ts';
import { channelWithKey, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { mediaStarts } from '../helpers/recording.ts';
import { publish, unpublish, until } from '../helpers/webrtc.ts';

type Ctx = { api: TestApi; owner: Client; browser: Browser };
const t = suite<Ctx>('recorder detach');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Detaching Caster');
  ctx.browser = await launchBrowser({ fakeMedia: true });
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
});

t('a recording stopped while the broadcast is live detaches from the room within a second', async ({ api, owner, browser }) => {
  assert.ok(RECORDER_GONE_MS > 1000, 'the heartbeat alone could not have done it');
  const slug = 'detach-live';
  const key = await channelWithKey(owner, slug);
  const page = await browser.context.newPage();
  try {
    await page.goto(api.base + '/healthz');
    assert.is((await publish(page, { slug, key, codec: 'VP8' })).status, 201);
    await mediaStarts(api, slug);
    const room = api.sfu.room(slug)!;
    assert.ok(await until(async () => room.recorderAttached, (a) => a, 10_000), 'the recorder attached');
    assert.ok((await until(async () => runningRecorders().length, (n) => n > 0, 10_000)) > 0, 'its FFmpeg records');
    await api.recorder!.close(); // the recorder service closing: it finishes its recordings, the broadcast goes on
    const stoppedAt = Date.now();
    const attached = await until(async () => room.recorderAttached, (a) => !a, 1000);
    assert.is(attached, false, `still attached ${Date.now() - stoppedAt} ms after the recording stopped`);
    assert.ok(!room.isClosed && room.publisherId, 'the broadcast is still live');
    const d = await room.dump();
    assert.is(d.consumers, 0, 'no consumer left for the recorder (and no viewers)');
    assert.equal(runningRecorders(), [], 'no recording FFmpeg left');
    assert.is(await unpublish(page), 200);
  } finally {
    await page.close();
  }
});

t.run();
