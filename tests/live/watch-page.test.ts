// The channel page's player: plays a live broadcast over WHEP, shows live badge, viewers and uptime, and goes back
// to "Offline" when the broadcast ends.
import * as assert from 'uvu/assert';
import { liveSuite } from '../helpers/live-suite.ts';
import { publish, withKey } from '../helpers/webrtc.ts';

const t = liveSuite('watch page', { owner: null });

t('an offline channel page says Offline; it starts playing on its own when the channel goes live, and says Offline again when it ends', async ({ api, browser }) => {
  const owner = await api.client().signUp('Watchable');
  await owner.post('/api/channels', { slug: 'watch-me', title: 'Watch me' });
  const key = (await owner.post('/api/channels/watch-me/stream-keys', {})).body.key;
  const viewer = await browser.context.newPage();
  viewer.setDefaultTimeout(20_000);
  const pub = await browser.context.newPage();
  try {
    await viewer.goto(api.base + '/c/watch-me');
    await viewer.getByText('Offline', { exact: true }).first().waitFor();
    assert.match((await viewer.getByTestId('player-status').textContent()) ?? '', /offline/i);

    await pub.goto(api.base + '/');
    const p = await publish(pub, { slug: 'watch-me', key });
    assert.is(p.status, 201, p.body);

    // the page polls while offline and connects by itself
    await viewer.getByTestId('live-badge').waitFor();
    await viewer.waitForFunction(() => {
      const v = document.querySelector('[data-testid="player-video"]') as HTMLVideoElement | null;
      return !!v && v.getVideoPlaybackQuality().totalVideoFrames > 10 && v.videoWidth > 0;
    });
    await viewer.waitForFunction(() => /1 watching/.test(document.querySelector('[data-testid="viewer-count"]')?.textContent ?? ''), undefined, { timeout: 15_000 });
    assert.match((await viewer.getByTestId('uptime').textContent()) ?? '', /^\d+:\d{2}$/);
    const home = await browser.context.newPage();
    await home.goto(api.base + '/');
    await home.locator('[data-testid="channel-card"][data-slug="watch-me"] [data-testid="card-live"]').waitFor();
    await home.close();

    assert.is((await fetch(api.base + p.location!, { method: 'DELETE', headers: withKey(key) })).status, 200);
    await viewer.waitForFunction(() => /offline/i.test(document.querySelector('[data-testid="player-status"]')?.textContent ?? ''));
  } finally {
    await pub.close();
    await viewer.close();
  }
});

t.run();
