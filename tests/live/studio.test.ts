// The studio in Chromium (fake camera and microphone): an owner goes live from the browser, a viewer watches,
// the owner ends the stream.
import * as assert from 'uvu/assert';
import { liveSuite } from '../helpers/live-suite.ts';
import { verifyStreamKey } from '../../shared/stream-keys.ts';
import { type Browser } from '../helpers/browser.ts';

const t = liveSuite('studio', { owner: null });

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
  assert.is(await studio.getByTestId('studio-rtmp-url').inputValue(), `rtmp://127.0.0.1:${api.sfu.rtmp!.port}/live`, 'the RTMP server for OBS');
  await studio.getByTestId('studio-obs-key').click();
  const obsKey = await studio.getByTestId('key-reveal-value').inputValue();
  assert.is((await verifyStreamKey(api.deps.database.db, obsKey))?.slug, 'studio-live', 'the key shown for OBS publishes to this channel');
  await studio.getByTestId('studio-obs-key').click(); // again: a new secret replaces the old one
  await studio.waitForFunction((old) => (document.querySelector('[data-testid="key-reveal-value"]') as HTMLInputElement)?.value !== old, obsKey);
  assert.is(await verifyStreamKey(api.deps.database.db, obsKey), null, 'the replaced OBS key no longer works');
  await studio.getByTestId('key-reveal-dismiss').click();
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
  await studio.getByTestId('studio-end-confirm').click();
  await studio.getByTestId('studio-go-live').waitFor();
  await viewer.waitForFunction(() => /offline/i.test(document.querySelector('[data-testid="player-status"]')?.textContent ?? ''));
  assert.is(api.sfu.room('studio-live'), undefined);
  const keys = await studio.evaluate(() => fetch('/api/channels/studio-live/stream-keys').then((r) => r.json()));
  assert.equal(keys.map((k: { label: string }) => k.label), ['OBS', 'Browser studio'], 'one key for the browser studio (however often it goes live) and one for OBS');
  await viewer.close();
  await studio.close();
});

t.run();
