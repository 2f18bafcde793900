// Every main page of the web app in Chromium at a desktop and two phone widths (1280×800, 390×844, 360×740), over one
// seeded world (tests/helpers/app-pages.ts: a live studio, offline channels, a recording, follows): no sideways
// scrolling, nothing over the sticky header and no header item over another, no browser list bullets where the app
// has a design, nothing rendered at zero size that has something to show, no broken image, no console or page errors. A screenshot of
// each page at each width is kept in .artifacts/screenshots/<page>-<width>.png. On a phone the channel page puts the
// player first, then its title and details, then the chat.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { addProbe, openPage, openWorld, PAGES, type Opened } from '../helpers/app-pages.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(root, '.artifacts/screenshots');
const WIDTHS = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
  { width: 360, height: 740 },
];
/** Lists whose markers are part of the content (settings' list of what a deletion takes): a selector for li.closest(). */
const BULLETS_ALLOWED = '[data-bullets]';

type Report = { overflow: string[]; header: string[]; bullets: string[]; zeroSize: string[]; broken: string[] };

const t = suite<{ o: Opened }>('layout of every page at desktop and phone widths');

t.before(async (ctx) => {
  // uvu does not print a failing hook's error: say it here
  ctx.o = await openWorld().catch((err) => {
    console.error('opening the seeded world failed:', err);
    throw err;
  });
  await mkdir(SHOTS, { recursive: true });
});
t.after(async (ctx) => {
  await ctx.o?.close();
});

for (const p of PAGES) {
  t(`${p.name}: no sideways scroll, header clear, no stray bullets or collapsed elements, no errors at ${WIDTHS.map((w) => w.width).join(', ')} px`, async ({ o }) => {
    const problems: string[] = [];
    const opened = await openPage(o, p, WIDTHS[0]!);
    const { page } = opened;
    try {
      for (const size of WIDTHS) {
        if (size !== WIDTHS[0]) {
          await page.setViewportSize(size);
          await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))); // media queries applied
        }
        await addProbe(page);
        const report = await page.evaluate((allowed) => (window as any).glintProbe.layout({ bulletsAllowed: allowed }) as Report, BULLETS_ALLOWED);
        const at = `${p.name} at ${size.width}×${size.height}`;
        for (const line of [...report.overflow, ...report.header, ...report.bullets, ...report.zeroSize, ...report.broken]) problems.push(`${at}: ${line}`);
        await page.screenshot({ path: path.join(SHOTS, `${p.name}-${size.width}.png`), fullPage: true });
      }
      problems.push(...opened.errors.map((e) => `${p.name}: ${e}`));
    } finally {
      if (page === o.studio) await page.setViewportSize(WIDTHS[0]!);
      await opened.close();
    }
    assert.ok(problems.length === 0, `${problems.length} layout problem(s) on ${p.name}:\n  ${problems.join('\n  ')}\n`);
  });
}

t('channel-live at 390×844: the player, then the title and details, then the chat, top to bottom; at 1280 the chat beside the player', async ({ o }) => {
  const p = PAGES.find((q) => q.name === 'channel-live')!;
  const opened = await openPage(o, p, { width: 390, height: 844 });
  const boxes = () =>
    opened.page
      .evaluate((sels) =>
        // (no named function: tsx would wrap it in a helper the page does not have)
        sels.map((sel) => {
          const r = document.querySelector(sel)!.getBoundingClientRect();
          return { top: Math.round(r.top), bottom: Math.round(r.bottom), left: Math.round(r.left), right: Math.round(r.right) };
        }),
        ['[data-testid="player"]', '.channel-info', '[data-testid="chat"]'],
      )
      .then(([player, details, chat]) => ({ player: player!, details: details!, chat: chat! }));
  try {
    await opened.page.getByTestId('chat').waitFor();
    const phone = await boxes();
    const at = JSON.stringify(phone);
    assert.ok(phone.player.bottom <= phone.details.top, `the title and details below the player: ${at}`);
    assert.ok(phone.details.bottom <= phone.chat.top, `the chat below the title and details: ${at}`);
    assert.ok(phone.details.top - phone.player.bottom < 100, `nothing tall between the player and its title: ${at}`);
    await opened.page.setViewportSize(WIDTHS[0]!);
    const desk = await boxes();
    assert.ok(desk.chat.left >= desk.player.right && desk.chat.top < desk.player.bottom, `at 1280 the chat is beside the player: ${JSON.stringify(desk)}`);
  } finally {
    await opened.close();
  }
});

t.run();
