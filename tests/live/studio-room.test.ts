// The studio as a control room, in Chromium with a fake camera: the broadcast's title, the warning before leaving the
// app while live, the broadcast surviving a navigation within the app (the header's pill, the preview back on return),
// health and viewer count beside the preview, and End stream's confirmation, summary and link to the recording, which
// carries the broadcast's title; the viewer count and the broadcast's details come over the page's socket, not a poll.
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { liveSuite } from '../helpers/live-suite.ts';
import { until } from '../helpers/webrtc.ts';

const t = liveSuite('studio room', { owner: null });
/** where the screenshots are kept, to be looked at */
const SHOTS = os.tmpdir();

const frames = (page: Page) => page.evaluate(() => (document.querySelector('[data-testid="player-video"]') as HTMLVideoElement | null)?.getVideoPlaybackQuality().totalVideoFrames ?? 0);
const number = async (page: Page, testid: string) => parseFloat((await page.getByTestId(testid).textContent()) ?? '0');

t('the studio names the broadcast, keeps it on air across in-app navigation, warns before leaving, and ends it with a summary', async ({ api, browser }) => {
  const studio = await browser.context.newPage();
  studio.setDefaultTimeout(20_000);
  const viewer = await browser.context.newPage();
  viewer.setDefaultTimeout(20_000);
  try {
    await studio.goto(api.base + '/sign-up');
    const form = studio.getByTestId('sign-up-form');
    await form.getByTestId('input-name').fill('Night Owl');
    await form.getByTestId('input-email').fill('owl@example.test');
    await form.getByTestId('input-password').fill('owl password');
    await form.getByTestId('sign-up-submit').click();
    await studio.getByTestId('user-menu').waitFor();
    const created = await studio.evaluate(() =>
      fetch('/api/channels', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ slug: 'owl-room', title: 'Night Owl Radio' }) }).then((r) => r.status),
    );
    assert.is(created, 201);

    // the next broadcast's title, saved before going live
    await studio.goto(api.base + '/studio/owl-room');
    await studio.getByTestId('studio-title').fill('Vinyl night');
    await studio.getByTestId('studio-category').fill('Music');
    await studio.getByTestId('studio-save-title').click();
    await studio.getByTestId('studio-title-note').filter({ hasText: 'next broadcast' }).waitFor();
    await studio.waitForFunction(() => ((document.querySelector('[data-testid="studio-preview"]') as HTMLVideoElement)?.videoWidth ?? 0) > 0);
    await studio.getByTestId('studio-go-live').click();
    await studio.waitForFunction(() => document.querySelector('[data-testid="studio-state"]')?.textContent === 'connected');
    const live = (await api.client().get('/api/channels/owl-room')).body.live;
    assert.equal([live.title, live.category], ['Vinyl night', 'Music'], 'the SFU started the broadcast with the saved title');

    await viewer.goto(api.base + '/c/owl-room');
    assert.is(await viewer.getByTestId('channel-live-title').textContent(), 'Vinyl night · Music', 'the channel page shows the broadcast title');
    await viewer.waitForFunction(() => ((document.querySelector('[data-testid="player-video"]') as HTMLVideoElement)?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > 10);

    // health and audience beside the preview
    await studio.getByTestId('studio-viewers').filter({ hasText: '1 watching' }).waitFor();
    await until(() => number(studio, 'studio-fps'), (n) => n > 0);
    await until(() => number(studio, 'studio-received-bitrate'), (n) => n > 50);
    assert.match((await studio.getByTestId('studio-resolution').textContent()) ?? '', /^[1-9]\d*×[1-9]\d*$/);
    assert.match((await studio.getByTestId('studio-received-score').textContent()) ?? '', /^\d+ \/ 10$/);
    await studio.getByTestId('chat').waitFor(); // the chat beside the preview
    await studio.screenshot({ path: path.join(SHOTS, 'studio-room-live.png') });

    // leaving the app while live: the browser asks first; staying keeps the broadcast
    const asked = studio.waitForEvent('dialog');
    await studio.evaluate(() => void setTimeout(() => location.assign('/'), 0));
    const dialog = await asked;
    assert.is(dialog.type(), 'beforeunload');
    await dialog.dismiss();
    await studio.getByTestId('studio-page').waitFor();
    assert.ok(api.sfu.room('owl-room')?.publisherId, 'still publishing after staying');

    // a link within the app: the studio unmounts, the broadcast does not
    const room = api.sfu.room('owl-room')!;
    const publisher = room.publisherId;
    await studio.getByTestId('nav-home').click();
    await studio.getByTestId('live-pill').waitFor();
    assert.is(await studio.getByTestId('studio-page').count(), 0, 'the studio page is gone');
    await studio.screenshot({ path: path.join(SHOTS, 'studio-room-pill.png') });
    const before = await frames(viewer);
    await viewer.waitForFunction((n) => ((document.querySelector('[data-testid="player-video"]') as HTMLVideoElement)?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > n + 30, before);
    assert.is(api.sfu.room('owl-room'), room, 'the same room');
    assert.is(room.publisherId, publisher, 'the same WHIP session');

    // back to the studio: the same stream in the preview again
    await studio.getByTestId('live-pill-studio').click();
    await studio.getByTestId('studio-page').waitFor();
    assert.is(await studio.getByTestId('live-pill').count(), 0, 'no pill in the studio itself');
    await studio.waitForFunction(() => {
      const v = document.querySelector('[data-testid="studio-preview"]') as HTMLVideoElement;
      const s = v?.srcObject as MediaStream | null;
      return v.videoWidth > 0 && !!s && s.getTracks().every((t) => t.readyState === 'live');
    });
    assert.is(await studio.getByTestId('studio-state').textContent(), 'connected');

    // renamed while live: the recording follows
    await studio.getByTestId('studio-title').fill('Vinyl night: side B');
    await studio.getByTestId('studio-save-title').click();
    await studio.getByTestId('studio-title-note').filter({ hasText: 'recording' }).waitFor();

    // End stream asks first; cancelling keeps it on air
    await studio.getByTestId('studio-end').click();
    await studio.getByTestId('studio-end-cancel').click();
    assert.ok(api.sfu.room('owl-room')?.publisherId, 'a cancelled End stream ends nothing');
    await studio.getByTestId('studio-end').click();
    await studio.getByTestId('studio-end-confirm').click();
    await studio.getByTestId('studio-summary').waitFor();
    await until(async () => api.sfu.room('owl-room'), (r) => r === undefined, 5_000);
    assert.is(await studio.getByTestId('studio-summary-title').textContent(), 'Vinyl night: side B');
    assert.match((await studio.getByTestId('studio-summary-duration').textContent()) ?? '', /^0:00:\d\d$/);
    await studio.getByTestId('studio-summary-peak').filter({ hasText: /^1$/ }).waitFor();
    const link = studio.getByTestId('studio-summary-vod');
    await link.waitFor({ timeout: 30_000 });
    const href = (await link.getAttribute('href')) ?? '';
    assert.match(href, /^\/v\/[0-9a-f-]{36}$/);
    const recording = await api.client().get(`/api/vods/${href.slice(3)}`);
    assert.is(recording.body.status, 'ready');
    assert.is(recording.body.title, 'Vinyl night: side B', 'the VoD carries the broadcast title');
    await studio.getByTestId('studio-go-live').waitFor(); // ready to go live again
    await studio.screenshot({ path: path.join(SHOTS, 'studio-room-summary.png') });
  } finally {
    await viewer.close();
    await studio.close();
  }
});

t("the studio's viewer count and details follow what its socket pushes (channel:viewers, channel:live), with no GET …/broadcast while live", async ({ api, browser }) => {
  const owner = await api.client().signUp('Push Caster');
  await browser.context.addCookies([...owner.cookies].map(([name, value]) => ({ name, value, url: api.base })));
  assert.is((await owner.post('/api/channels', { slug: 'push-room', title: 'Push Radio' })).status, 201);
  const studio = await browser.context.newPage();
  studio.setDefaultTimeout(20_000);
  let viewer: Page | undefined;
  /** when the studio read GET /api/channels/push-room/broadcast, and the viewer counts its socket was sent */
  const reads: number[] = [];
  const pushed: number[] = [];
  studio.on('request', (r) => {
    if (r.method() === 'GET' && new URL(r.url()).pathname === '/api/channels/push-room/broadcast') reads.push(Date.now());
  });
  studio.on('websocket', (ws) =>
    ws.on('framereceived', (f) => {
      const m = String(f.payload).match(/^42\["channel:viewers",(\{.*\})\]$/);
      if (m) pushed.push((JSON.parse(m[1]!) as { count: number }).count);
    }),
  );
  const viewers = (n: number) => studio.getByTestId('studio-viewers').filter({ hasText: new RegExp(`^${n} watching$`) }).waitFor();
  try {
    await studio.goto(api.base + '/studio/push-room');
    await studio.waitForFunction(() => !(document.querySelector('[data-testid="studio-go-live"]') as HTMLButtonElement | null)?.disabled);
    await studio.getByTestId('studio-go-live').click();
    await studio.waitForFunction(() => document.querySelector('[data-testid="studio-state"]')?.textContent === 'connected');
    await viewers(0);
    const wentLive = Date.now();
    const readsBefore = reads.length;
    // on opening, and once as it went live for the live session's id (live/broadcast.ts)
    assert.ok(readsBefore >= 1 && readsBefore <= 2, `the studio read its broadcast on opening and going live only (${readsBefore} reads)`);

    // a viewer joins: the count the socket pushes is the one the studio shows
    viewer = await browser.context.newPage();
    await viewer.goto(api.base + '/c/push-room');
    await viewer.waitForFunction(() => ((document.querySelector('[data-testid="player-video"]') as HTMLVideoElement | null)?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > 10);
    await viewers(1);
    assert.ok(pushed.includes(1), `channel:viewers carried the 1 (pushed: ${pushed.join(', ')})`);

    // renamed from elsewhere (the API here; another tab or device alike): channel:live brings it into the form
    assert.is((await owner.put('/api/channels/push-room/broadcast', { json: { title: 'Pushed along', category: 'Talk' } })).status, 200);
    await studio.waitForFunction(() => (document.querySelector('[data-testid="studio-title"]') as HTMLInputElement | null)?.value === 'Pushed along');
    assert.is(await studio.getByTestId('studio-category').inputValue(), 'Talk');

    // the viewer leaves: down again, pushed
    await viewer.close();
    viewer = undefined;
    await viewers(0);
    assert.is(pushed.at(-1), 0);
    const liveFor = Date.now() - wentLive;
    assert.is(reads.length, readsBefore, `no GET …/broadcast in ${liveFor} ms on air (reads at ${reads.map((t) => t - wentLive).join(', ')} ms)`);

    // the summary's peak is the broadcast's (the session's, read after the end), though the viewer left before it
    await studio.getByTestId('studio-end').click();
    await studio.getByTestId('studio-end-confirm').click();
    await studio.getByTestId('studio-summary').waitFor();
    assert.is(await studio.getByTestId('studio-summary-peak').textContent(), '1');
  } finally {
    await viewer?.close();
    await studio.close();
  }
});

t.run();
