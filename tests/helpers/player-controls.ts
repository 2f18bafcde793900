// Checks of the control bar both players share (web/src/components/player-controls.tsx), run by the live player's
// suite (tests/live/player.test.ts) and the VoD player's (tests/web/vod-player.test.ts) on their own pages: volume
// (slider and ↑/↓), fullscreen (f, the button, Escape) and picture-in-picture (i, the button, a refusal, a browser
// without it). Each takes the page and the player's test ids.
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { until } from './webrtc.ts';

/** The player on a page: its frame (what goes fullscreen) and its <video>, by test id. */
export type PlayerIds = { frame: string; video: string };

type Sound = { volume: number; muted: boolean };
const sound = (page: Page, ids: PlayerIds): Promise<Sound> =>
  page.getByTestId(ids.video).evaluate((v: HTMLVideoElement) => ({ volume: Math.round(v.volume * 100) / 100, muted: v.muted }));

/** The player is muted (as autoplay leaves it, or muted here): the volume tests start from there. */
async function mute(page: Page, ids: PlayerIds) {
  await page.getByTestId(ids.video).evaluate((v: HTMLVideoElement) => void (v.muted = true));
}

/**
 * The volume slider sets the element's volume where it is clicked and unmutes it; with the slider focused its own
 * arrows move it; ↑/↓ elsewhere on the page step the volume by 10 % and unmute, down to 0 (which mutes).
 */
export async function checkVolume(page: Page, ids: PlayerIds): Promise<void> {
  await mute(page, ids);
  const slider = page.getByTestId('player-volume');
  await page.getByTestId(ids.frame).hover(); // the bar shows on hover
  const box = await slider.boundingBox();
  assert.ok(box && box.width > 20, 'the volume slider is on screen');
  await page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2);
  const clicked = await until(() => sound(page, ids), (s) => !s.muted, 2000);
  assert.not.ok(clicked.muted, 'a click on the slider unmutes');
  assert.ok(clicked.volume > 0.6 && clicked.volume < 0.9, `the click at three quarters sets about 75 % (got ${clicked.volume})`);
  assert.is(await slider.getAttribute('aria-valuetext'), `${Math.round(clicked.volume * 100)}%`, 'the slider says the volume');

  // the slider's own arrows (it is focused after the click): one step of 5 %, and not the page's ↑/↓ as well
  await page.keyboard.press('ArrowLeft');
  const stepped = await until(() => sound(page, ids), (s) => s.volume < clicked.volume, 2000);
  assert.is(Math.round((clicked.volume - stepped.volume) * 100), 5, `the focused slider's ← steps 5 % (${clicked.volume} → ${stepped.volume})`);

  // ↑/↓ with the focus elsewhere: from muted, up starts at 10 % and unmutes
  await page.getByTestId(ids.video).evaluate((v: HTMLVideoElement) => {
    (document.activeElement as HTMLElement | null)?.blur();
    v.muted = true;
  });
  await page.keyboard.press('ArrowUp');
  assert.equal(await sound(page, ids), { volume: 0.1, muted: false }, '↑ from muted: 10 %, unmuted');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp');
  assert.equal(await sound(page, ids), { volume: 0.3, muted: false }, '↑ twice more: 30 %');
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await sound(page, ids), { volume: 0, muted: true }, '↓ to 0 mutes');
  for (let i = 0; i < 12; i++) await page.keyboard.press('ArrowUp');
  assert.equal(await sound(page, ids), { volume: 1, muted: false }, '↑ stops at 100 %');
  await page.locator('[data-testid="player-mute"][aria-label="Mute (m)"]').waitFor({ timeout: 2000 }); // the mute button follows
}

/** Which element holds a mode of the document (fullscreen, picture-in-picture): true the player's, null none. */
type Holder = () => Promise<boolean | null>;
const holder = (page: Page, which: 'fullscreenElement' | 'pictureInPictureElement', id: string): Holder => () =>
  page.evaluate(([w, i]) => (document[w] ? document[w] === document.querySelector(`[data-testid="${i}"]`) : null), [which, id] as const);
const becomes = (held: Holder, want: true | null) => until(held, (x) => x === want, 3000);

/**
 * Its key turns a mode on and off again, and so does its button (`pressed`: the button's look while on): the checks
 * fullscreen and picture-in-picture share.
 */
async function keyAndButton(page: Page, ids: PlayerIds, o: { key: string; button: string; pressed: string; held: Holder; what: string }) {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  assert.is(await o.held(), null, `no ${o.what} at first`);
  await page.keyboard.press(o.key);
  assert.is(await becomes(o.held, true), true, `${o.key}: ${o.what} on the player`);
  await page.locator(`[data-testid="${o.button}"]${o.pressed}`).waitFor({ state: 'attached', timeout: 2000 });
  await page.keyboard.press(o.key);
  assert.is(await becomes(o.held, null), null, `${o.key} again: back in the page`);
  await page.getByTestId(ids.frame).hover();
  await page.getByTestId(o.button).click();
  assert.is(await becomes(o.held, true), true, `the button: ${o.what}`);
  await page.getByTestId(o.button).click();
  assert.is(await becomes(o.held, null), null, 'the button again: back in the page');
}

/**
 * `f` puts the player's frame (controls and all) in document.fullscreenElement and `f` again leaves; so does the
 * button; Escape leaves too.
 */
export async function checkFullscreen(page: Page, ids: PlayerIds): Promise<void> {
  const held = holder(page, 'fullscreenElement', ids.frame);
  await keyAndButton(page, ids, { key: 'f', button: 'player-fullscreen', pressed: '[aria-label="Exit fullscreen (f)"]', held, what: 'fullscreen' });
  await page.getByTestId('player-fullscreen').click();
  await becomes(held, true);
  await page.keyboard.press('Escape');
  assert.is(await becomes(held, null), null, 'Escape leaves fullscreen');
}

/**
 * `i` puts the player's video in picture-in-picture (document.pictureInPictureElement) and `i` again takes it back;
 * so does the button. A request the browser refuses (here: the element opted out with disablePictureInPicture, a
 * real refusal of Chromium's) says so on the player.
 */
export async function checkPictureInPicture(page: Page, ids: PlayerIds): Promise<void> {
  assert.ok(await page.evaluate(() => document.pictureInPictureEnabled), 'this Chromium offers picture-in-picture');
  const held = holder(page, 'pictureInPictureElement', ids.video);
  await keyAndButton(page, ids, { key: 'i', button: 'player-pip', pressed: '[aria-pressed="true"]', held, what: 'picture-in-picture' });
  await page.getByTestId(ids.video).evaluate((v: HTMLVideoElement) => void (v.disablePictureInPicture = true));
  await page.keyboard.press('i');
  const message = page.getByTestId('player-message');
  await message.waitFor({ timeout: 3000 });
  assert.match((await message.textContent()) ?? '', /^Picture-in-picture is not available: /, 'the refusal is said in words');
  assert.is(await message.getAttribute('role'), 'alert');
  assert.is(await held(), null, 'and nothing went into picture-in-picture');
  await page.getByTestId(ids.video).evaluate((v: HTMLVideoElement) => void (v.disablePictureInPicture = false));
}

/**
 * Where the browser has no picture-in-picture (document.pictureInPictureEnabled false — Firefox, which has its own
 * button, or a policy that forbids it), the player has no such button and `i` does nothing. Chromium has it, so an
 * init script of `page` stands in for such a browser before the page loads (call this on a fresh page).
 */
export async function withoutPictureInPicture(page: Page): Promise<void> {
  // as text: tsx names the functions it compiles with a helper the page does not have
  await page.addInitScript({ content: "Object.defineProperty(document, 'pictureInPictureEnabled', { value: false });" });
}

/** After withoutPictureInPicture: no button, and `i` changes nothing. */
export async function checkNoPictureInPicture(page: Page, ids: PlayerIds): Promise<void> {
  assert.is(await page.evaluate(() => document.pictureInPictureEnabled), false);
  await page.getByTestId('player-fullscreen').waitFor({ state: 'attached' }); // the bar is there
  assert.is(await page.getByTestId('player-pip').count(), 0, 'no picture-in-picture button');
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('i');
  await page.waitForTimeout(300);
  assert.is(await holder(page, 'pictureInPictureElement', ids.video)(), null, 'i does nothing');
  assert.is(await page.getByTestId('player-message').count(), 0, 'and says nothing');
}
