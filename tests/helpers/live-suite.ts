// The fixture the live and recording suites share: one API (with its embedded SFU and recorder) on a fresh database,
// a signed-up channel owner, and Chromium with a fake camera and microphone — all closed after the suite, whatever
// failed. `owner: null` signs nobody up (the suite makes its own users).
import type { Page } from 'playwright-core';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { channelWithKey, startTestApi, type Client, type TestApi } from './api.ts';
import { launchBrowser, type Browser } from './browser.ts';
import { mediaStarts, type Broadcast } from './recording.ts';
import { publish } from './webrtc.ts';

export type LiveCtx = { api: TestApi; owner: Client; browser: Browser };

export function liveSuite(name: string, opts: { owner?: string | null; env?: Record<string, string>; after?: () => void } = {}): Test<LiveCtx> {
  const t = suite<LiveCtx>(name);
  t.before(async (ctx) => {
    ctx.api = await startTestApi(opts.env);
    if (opts.owner !== null) ctx.owner = await ctx.api.client().signUp(opts.owner ?? 'Caster');
    ctx.browser = await launchBrowser({ fakeMedia: true });
  });
  t.after(async (ctx) => {
    opts.after?.();
    await ctx.browser?.close();
    await ctx.api?.stop();
  });
  return t;
}

/**
 * A Chromium broadcast (`codec`) on a new channel `slug` of the suite's owner: `body` runs once the SFU receives its
 * video, with the publishing page and the broadcast's media start; the page closes afterwards, whatever happened.
 */
export async function withBroadcast(ctx: LiveCtx, slug: string, body: (page: Page, b: Broadcast) => Promise<void>, codec: 'VP8' | 'H264' = 'VP8') {
  const key = await channelWithKey(ctx.owner, slug);
  const page = await ctx.browser.context.newPage();
  try {
    await page.goto(ctx.api.base + '/healthz');
    assert.is((await publish(page, { slug, key, codec })).status, 201);
    await body(page, await mediaStarts(ctx.api, slug));
  } finally {
    await page.close();
  }
}
