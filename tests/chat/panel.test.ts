// @runtime-matrix
// The chat panel on the watch page, in Chromium: the owner chats from the page, sees other users' messages as text
// (an HTML payload is not rendered), deletes one from the message menu, sees the active modes; signed out, the
// page shows the history and asks to sign in; the panel and the header's bell share the page's one socket.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Socket } from 'socket.io-client';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { chatSocket } from '../helpers/chat.ts';

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

async function socketAs(ctx: Ctx, c: Client): Promise<Socket> {
  const s = await chatSocket(ctx.api.base, c);
  ctx.sockets.push(s);
  await s.timeout(5000).emitWithAck('join', { channel: 'panel' });
  return s;
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
  assert.is(await chat.locator('img, b').count(), 0, 'no element was made from the message');
  assert.is(await page.evaluate(() => (window as any).__xss), undefined);

  // the owner sends from the page
  const heard = new Promise<any>((resolve) => guest.once('messages', (batch: any[]) => resolve(batch[0])));
  await chat.getByTestId('chat-input').fill('hello from the page');
  await chat.getByTestId('chat-send').click();
  const m = await heard;
  assert.is(m.text, 'hello from the page');
  assert.is(m.author.name, 'Host');
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

t.run();
