// @runtime-matrix
// The chat panel on the watch page, in Chromium: the owner chats from the page, sees other users' messages as text
// (an HTML payload is not rendered), deletes one from the message menu, sees the active modes; signed out, the
// page shows the history and asks to sign in; the panel and the header's bell share the page's one socket. Messages
// show their time, badges, a stable name colour, emotes and mentions; the owner uploads an emote, moderates with
// feedback and Undo, and manages bans and moderators from the page.
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Socket } from 'socket.io-client';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { chatSocket } from '../helpers/chat.ts';
import { validImages } from '../helpers/fuzz/avatar.ts';

/** Where a screenshot of this suite is kept (an artifact to look at; nothing compares it). */
const shot = (name: string) => path.join(os.tmpdir(), 'glint-chat-panel', `${name}.png`);

type Ctx = { api: TestApi; owner: Client; viewer: Client; browser: Browser; sockets: Socket[] };
const t = suite<Ctx>('chat panel on the watch page');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Host');
  ctx.viewer = await ctx.api.client().signUp('Guest');
  ctx.sockets = [];
  assert.is((await ctx.owner.post('/api/channels', { slug: 'panel', title: 'Panel' })).status, 201);
  ctx.browser = await launchBrowser();
});
t.after(async (ctx) => {
  for (const s of ctx.sockets) s.disconnect();
  await ctx.browser?.close();
  await ctx.api?.stop();
});

async function socketAs(ctx: Ctx, c: Client, channel = 'panel'): Promise<Socket> {
  const s = await chatSocket(ctx.api.base, c);
  ctx.sockets.push(s);
  await s.timeout(5000).emitWithAck('join', { channel });
  return s;
}

/** A page of a channel signed in as `as` (its cookies), its chat panel ready. */
async function pageAs(ctx: Ctx, as: Client, slug: string) {
  await ctx.browser.context.clearCookies();
  await ctx.browser.context.addCookies([...as.cookies].map(([name, value]) => ({ name, value, url: ctx.api.base })));
  const page = await ctx.browser.context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${ctx.api.base}/c/${slug}`);
  const chat = page.getByTestId('chat');
  await chat.getByTestId('chat-input').waitFor();
  return { page, chat };
}

t('the owner chats from the page, moderates from the message menu and sees the modes; signed out, it asks to sign in', async (ctx) => {
  const { api, browser } = ctx;
  await browser.context.addCookies([...ctx.owner.cookies].map(([name, value]) => ({ name, value, url: api.base })));
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${api.base}/c/panel`);
  const chat = page.getByTestId('chat');
  await chat.getByTestId('chat-input').waitFor();

  // another user's HTML arrives as text
  const guest = await socketAs(ctx, ctx.viewer);
  const xss = '<img src=x onerror="window.__xss=1"><b>bold?</b>';
  const sent = await guest.timeout(5000).emitWithAck('send', { channel: 'panel', text: xss });
  assert.is(sent.ok, true);
  const line = chat.locator(`[data-testid="chat-message"][data-id="${sent.message.id}"]`);
  await line.waitFor();
  assert.is(await line.locator('.chat-text').textContent(), xss);
  assert.is(await chat.getByTestId('chat-list').locator('img, b').count(), 0, 'no element was made from the message');
  assert.is(await page.evaluate(() => (window as any).__xss), undefined);

  // the owner sends from the page
  const heard = new Promise<any>((resolve) => guest.once('messages', (batch: any[]) => resolve(batch[0])));
  await chat.getByTestId('chat-input').fill('hello from the page');
  await chat.getByTestId('chat-send').click();
  const m = await heard;
  assert.is(m.text, 'hello from the page');
  assert.is(m.author.name, 'Host');
  // the acknowledgement and the guest's batch travel apart (on Deno both through the bridge): wait for the ack's effect
  await page.waitForFunction(() => (document.querySelector('[data-testid="chat"] [data-testid="chat-input"]') as HTMLInputElement | null)?.value === '', undefined, { timeout: 5000 }).catch(() => undefined);
  assert.is(await chat.getByTestId('chat-input').inputValue(), '', 'the input is cleared once acknowledged');

  // and deletes the guest's message from its menu: gone for the guest and on the page
  const deleted = new Promise<any>((resolve) => guest.once('deleted', resolve));
  await line.locator('summary').click();
  await line.getByTestId('chat-delete').click();
  assert.equal(await deleted, { channel: 'panel', id: sent.message.id });
  await line.waitFor({ state: 'detached' });

  // modes set by a moderator show at once
  const ownerSocket = await socketAs(ctx, ctx.owner);
  await ownerSocket.timeout(5000).emitWithAck('modes', { channel: 'panel', slowSeconds: 30 });
  await chat.getByTestId('chat-modes').getByText('Slow mode: 30 s').waitFor();
  // and the owner switches followers-only on from the panel's Modes menu: the guest's room hears it
  const announced = new Promise<any>((resolve) => guest.on('modes', (m: any) => m.followersOnlyMinutes === 0 && resolve(m)));
  await chat.getByTestId('chat-settings').click();
  assert.is(await chat.getByTestId('mode-slow').isChecked(), true);
  await chat.getByTestId('mode-followers').check();
  assert.is((await announced).followersOnlyMinutes, 0);
  await chat.getByTestId('chat-modes').getByText('Followers only').waitFor();
  const refused = await guest.timeout(5000).emitWithAck('send', { channel: 'panel', text: 'not a follower' });
  assert.is(refused.error.code, 'followers-only');

  // signed out: the history is there, the input is not
  await browser.context.clearCookies();
  await page.reload();
  await chat.getByText('hello from the page').waitFor();
  await chat.getByText('to chat.').waitFor();
  assert.is(await chat.getByTestId('chat-input').count(), 0);
  await page.close();
});

t('a signed-in watch page opens one Socket.IO connection, shared by the chat panel and the notification bell', async (ctx) => {
  const { api, browser } = ctx;
  await browser.context.addCookies([...ctx.viewer.cookies].map(([name, value]) => ({ name, value, url: api.base })));
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(`${api.base}/c/panel`);
  await page.getByTestId('notification-bell').waitFor();
  await page.getByTestId('chat').getByTestId('chat-input').waitFor();
  // the page's one socket is in the channel's room: a message sent now reaches the panel (live, or in the join's history)
  const owner = await socketAs(ctx, ctx.owner);
  const sent = await owner.timeout(5000).emitWithAck('send', { channel: 'panel', text: 'one socket' });
  assert.is(sent.ok, true);
  await page.getByTestId('chat').getByText('one socket').waitFor();
  assert.is(sockets.filter((u) => u.includes('/socket.io/')).length, 1, `one connection, not ${sockets.length}: ${sockets.join(', ')}`);
  await browser.context.clearCookies();
  await page.close();
});

t('messages show a time (full date on hover), badges, a name colour stable per user, emotes as images and mentions; an empty chat says so', async (ctx) => {
  assert.is((await ctx.owner.post('/api/channels', { slug: 'panel-look', title: 'Look' })).status, 201);
  const { page, chat } = await pageAs(ctx, ctx.viewer, 'panel-look');
  await chat.getByTestId('chat-empty').getByText('No messages yet — say hi').waitFor();

  const host = await socketAs(ctx, ctx.owner, 'panel-look');
  const guest = await socketAs(ctx, ctx.viewer, 'panel-look');
  const first = await host.timeout(5000).emitWithAck('send', { channel: 'panel-look', text: 'welcome @Guest glintHi' });
  await host.timeout(5000).emitWithAck('send', { channel: 'panel-look', text: 'second from the host, to @Someone' });
  await guest.timeout(5000).emitWithAck('send', { channel: 'panel-look', text: 'thanks' });
  const lines = chat.getByTestId('chat-message');
  await lines.nth(2).waitFor();
  assert.is(await chat.getByTestId('chat-empty').count(), 0, 'the empty state is gone');

  // the time: a short clock, the full date (with the year) in its title, the instant in datetime
  const time = lines.first().getByTestId('chat-time');
  assert.match((await time.textContent())!, /\d{1,2}[:.]\d{2}/);
  assert.is(await time.getAttribute('datetime'), first.message.sentAt);
  assert.match((await time.getAttribute('title'))!, String(new Date(first.message.sentAt).getFullYear()));

  // badges: the owner's messages carry one, the guest's none
  assert.equal(await lines.nth(0).getByTestId('chat-badge').evaluateAll((els) => els.map((e) => e.getAttribute('data-badge'))), ['owner']);
  assert.is(await lines.nth(0).locator('[data-badge="owner"]').getAttribute('title'), 'Channel owner');
  assert.is(await lines.nth(2).getByTestId('chat-badge').count(), 0);

  // the colour: one per user, the same on every message and after a reload
  const colours = async () => lines.getByTestId('chat-author').evaluateAll((els) => els.map((e) => getComputedStyle(e).color));
  const before = await colours();
  assert.is(before[0], before[1], 'the same user, the same colour');
  assert.is.not(before[0], getComputedStyleOfAccent(), 'not the one accent colour for everyone');
  await page.reload();
  await lines.nth(2).waitFor();
  assert.equal(await colours(), before, 'stable across visits');

  // a built-in emote is an image; @Guest is marked, more so on Guest's own page; @Someone only marked
  const emote = lines.first().getByTestId('chat-emote');
  assert.is(await emote.getAttribute('alt'), 'glintHi');
  await page.waitForFunction(() => (document.querySelector('[data-testid="chat-emote"]') as HTMLImageElement | null)?.naturalWidth! > 0);
  const mine = lines.first().getByTestId('chat-mention');
  assert.is(await mine.textContent(), '@Guest');
  assert.match((await mine.getAttribute('class'))!, /\bme\b/);
  assert.match((await lines.first().getAttribute('class'))!, /mentions-me/);
  const theirs = lines.nth(1).getByTestId('chat-mention');
  assert.is(await theirs.textContent(), '@Someone');
  assert.not.match((await theirs.getAttribute('class'))!, /\bme\b/);
  assert.not.match((await lines.nth(1).getAttribute('class'))!, /mentions-me/);
  await page.screenshot({ path: shot('look') });
  await page.close();
});
// the accent every name had before colours: a name in it would mean no colour was set
const getComputedStyleOfAccent = () => 'rgb(139, 92, 246)';

t('the owner uploads a channel emote from the page; it renders in messages, the picker inserts it; emote-only mode refuses words', async (ctx) => {
  assert.is((await ctx.owner.post('/api/channels', { slug: 'panel-emotes', title: 'Emotes' })).status, 201);
  const { page, chat } = await pageAs(ctx, ctx.owner, 'panel-emotes');
  await chat.getByTestId('moderation-toggle').click();
  const pane = chat.getByTestId('moderation-pane');
  await pane.getByTestId('emote-code').fill('hostWave');
  await pane.getByTestId('emote-file').setInputFiles({ name: 'wave.png', mimeType: 'image/png', buffer: validImages()['image/png'] });
  await pane.getByTestId('emote-upload').click();
  await pane.getByTestId('channel-emotes').getByText('hostWave').waitFor();
  await chat.getByTestId('moderation-toggle').click(); // back to chat

  // the picker offers it (and the built-in set); choosing adds its code to the message
  await chat.getByTestId('emote-picker').locator('summary').click();
  await chat.locator('[data-testid="emote-choice"][data-code="hostWave"]').click();
  await chat.locator('[data-testid="emote-choice"][data-code="glintGG"]').click();
  assert.is(await chat.getByTestId('chat-input').inputValue(), 'hostWave glintGG ');
  await chat.getByTestId('chat-send').click();
  const line = chat.getByTestId('chat-message').first();
  await line.getByTestId('chat-emote').nth(1).waitFor();
  assert.equal(await line.getByTestId('chat-emote').evaluateAll((els) => els.map((e) => e.getAttribute('alt'))), ['hostWave', 'glintGG']);
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid="chat-emote"]')].every((i) => i.complete && i.naturalWidth > 0));

  // a viewer's socket gets it in the join; emote-only from the Modes menu refuses their words, with the reason
  const guest = await socketAs(ctx, ctx.viewer, 'panel-emotes');
  await chat.getByTestId('chat-settings').click();
  await chat.getByTestId('mode-emote').check();
  await chat.getByTestId('chat-modes').getByText('Emote only').waitFor();
  const refused = await guest.timeout(5000).emitWithAck('send', { channel: 'panel-emotes', text: 'just words' });
  assert.is(refused.error.code, 'emote-only');
  assert.is((await guest.timeout(5000).emitWithAck('send', { channel: 'panel-emotes', text: 'hostWave' })).ok, true);
  await page.screenshot({ path: shot('emotes') });
  await page.close();
});

t('a timeout shows the moderator a confirmation with Undo, which lets the user post again; the banned list unbans; the owner appoints and removes a moderator', async (ctx) => {
  assert.is((await ctx.owner.post('/api/channels', { slug: 'panel-mod', title: 'Mod' })).status, 201);
  const troll = await ctx.api.client().signUp('Trolly');
  const helper = await ctx.api.client().signUp('Helpful');
  const trollS = await socketAs(ctx, troll, 'panel-mod');
  const { page, chat } = await pageAs(ctx, ctx.owner, 'panel-mod');
  const said = await trollS.timeout(5000).emitWithAck('send', { channel: 'panel-mod', text: 'spam spam' });
  const line = chat.locator(`[data-testid="chat-message"][data-id="${said.message.id}"]`);
  await line.locator('summary').click();
  await line.getByTestId('chat-timeout').click();
  const feedback = chat.getByTestId('chat-feedback').last();
  await feedback.getByText('You timed out Trolly for 10 min').waitFor();
  assert.is((await trollS.timeout(5000).emitWithAck('send', { channel: 'panel-mod', text: 'muted?' })).error.code, 'timed-out');
  await feedback.getByTestId('chat-undo').click();
  await chat.getByTestId('chat-feedback').getByText("You lifted Trolly's timeout.").waitFor();
  assert.is((await trollS.timeout(5000).emitWithAck('send', { channel: 'panel-mod', text: 'back' })).ok, true, 'Undo restored posting');

  // a ban, then the banned list: who, by whom, for how long; Unban there
  await line.locator('summary').click();
  await line.getByTestId('chat-ban').click();
  await chat.getByTestId('chat-feedback').getByText('You banned Trolly.').waitFor();
  await chat.getByTestId('moderation-toggle').click();
  const pane = chat.getByTestId('moderation-pane');
  const ban = pane.locator(`[data-testid="ban"][data-user="${troll.user!.id}"]`);
  await ban.waitFor();
  assert.match((await ban.textContent())!, /Trolly.*for good.*by Host/);
  await ban.getByTestId('unban').click();
  await pane.getByTestId('bans-empty').waitFor();
  assert.is((await trollS.timeout(5000).emitWithAck('send', { channel: 'panel-mod', text: 'free' })).ok, true, 'unbanned from the list');

  // moderators: appoint by name, listed; their socket now may moderate; removed again
  await pane.getByTestId('mod-name').fill('Helpful');
  await pane.getByTestId('mod-add').click();
  const mod = pane.locator(`[data-testid="mod"][data-user="${helper.user!.id}"]`);
  await mod.waitFor();
  const helperS = await socketAs(ctx, helper, 'panel-mod');
  assert.is((await helperS.timeout(5000).emitWithAck('bans', { channel: 'panel-mod' })).ok, true, 'the appointed user moderates');
  await page.screenshot({ path: shot('moderation') });
  await mod.getByTestId('mod-remove').click();
  await mod.waitFor({ state: 'detached' });
  assert.is((await helperS.timeout(5000).emitWithAck('bans', { channel: 'panel-mod' })).error.code, 'forbidden', 'removed');
  await page.close();
});

t.run();
