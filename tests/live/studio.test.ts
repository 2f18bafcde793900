// The studio in Chromium (fake camera and microphone): an owner goes live from the browser, a viewer watches,
// the owner ends the stream.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';

const t = suite<{ api: TestApi; browser: Browser }>('studio');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.browser = await launchBrowser({ fakeMedia: true });
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
});

t('the owner goes live from the studio, sees timer, bitrate and resolution; a viewer watches; End stream ends it', async ({ api, browser }) => {
  const studio = await browser.context.newPage();
  studio.setDefaultTimeout(20_000);
  await studio.goto(api.base + '/sign-up');
  const form = studio.getByTestId('sign-up-form');
  await form.getByTestId('input-name').fill('Studio Owner');
  await form.getByTestId('input-email').fill('studio@example.test');
  await form.getByTestId('input-password').fill('studio password');
  await form.getByTestId('sign-up-submit').click();
  await studio.getByTestId('user-menu').waitFor();
  const created = await studio.evaluate(() =>
    fetch('/api/channels', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ slug: 'studio-live', title: 'Studio live' }) }).then((r) => r.status),
  );
  assert.is(created, 201);

  await studio.goto(api.base + '/c/studio-live');
  await studio.getByTestId('channel-go-live').click();
  await studio.getByTestId('studio-page').waitFor();
  assert.match(await studio.getByTestId('studio-whip-url').inputValue(), /\/whip\/studio-live$/);
  await studio.waitForFunction(() => ((document.querySelector('[data-testid="studio-preview"]') as HTMLVideoElement)?.videoWidth ?? 0) > 0);
  await studio.getByTestId('studio-go-live').click();
  await studio.waitForFunction(() => document.querySelector('[data-testid="studio-state"]')?.textContent === 'connected');
  await studio.waitForFunction(() => parseInt(document.querySelector('[data-testid="studio-bitrate"]')?.textContent ?? '0') > 50);
  assert.match((await studio.getByTestId('studio-resolution').textContent()) ?? '', /^[1-9]\d*×[1-9]\d*$/);
  assert.match((await studio.getByTestId('studio-timer').textContent()) ?? '', /^0:00:\d\d$/);

  const viewer = await browser.context.newPage();
  viewer.setDefaultTimeout(20_000);
  await viewer.goto(api.base + '/c/studio-live');
  await viewer.getByTestId('live-badge').waitFor();
  await viewer.waitForFunction(() => ((document.querySelector('[data-testid="player-video"]') as HTMLVideoElement)?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > 10);

  await studio.getByTestId('studio-end').click();
  await studio.getByTestId('studio-go-live').waitFor();
  await viewer.waitForFunction(() => /offline/i.test(document.querySelector('[data-testid="player-status"]')?.textContent ?? ''));
  assert.is(api.sfu.room('studio-live'), undefined);
  const keys = await studio.evaluate(() => fetch('/api/channels/studio-live/stream-keys').then((r) => r.json()));
  assert.equal(keys.map((k: { label: string }) => k.label), ['Browser studio'], 'the studio uses one key of its own');
  await viewer.close();
  await studio.close();
});

t.run();
