// Accessibility of every main page (tests/helpers/app-pages.ts) in Chromium: axe-core finds no serious or critical
// violation at 1280 and 390 px wide (with the phone menu open too); every field has a label; every control is reached
// by Tab and shows a visible focus indicator; the phone menu opens, is walked and closes by keyboard alone.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { addProbe, openPage, openWorld, PAGES, type AppPage, type Opened } from '../helpers/app-pages.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const AXE = path.join(root, 'node_modules/axe-core/axe.min.js');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** Tab presses beyond the number of controls before giving up on reaching them all (skip link, wrap-around). */
const EXTRA_TABS = 10;

type AxeNode = { target: string[]; failureSummary?: string };
type AxeViolation = { id: string; impact: string | null; help: string; nodes: AxeNode[] };

const t = suite<{ o: Opened }>('accessibility of every page (axe-core, keyboard, labels)');

t.before(async (ctx) => {
  // uvu does not print a failing hook's error: say it here
  ctx.o = await openWorld().catch((err) => {
    console.error('opening the seeded world failed:', err);
    throw err;
  });
});
t.after(async (ctx) => {
  await ctx.o?.close();
});

/** axe-core's serious and critical violations on the page as it is now, one line each with the elements. */
async function axeProblems(page: Page, at: string): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as any).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations as AxeViolation[];
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => {
      const nodes = v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}${n.failureSummary ? ` (${n.failureSummary.replace(/\s+/g, ' ').trim()})` : ''}`);
      return `${at}: axe ${v.impact} [${v.id}] ${v.help} — ${v.nodes.length} element(s): ${nodes.join('; ')}`;
    });
}

/**
 * Tabs through the page from the top and returns what was wrong: controls never reached, and controls reached whose
 * focus shows no outline and no box-shadow different from their unfocused one.
 */
async function keyboardProblems(page: Page, at: string): Promise<string[]> {
  await addProbe(page);
  const count = await page.evaluate(() => {
    document.querySelectorAll('[data-probe-focus]').forEach((el) => el.removeAttribute('data-probe-focus'));
    const all = (window as any).glintProbe.focusables() as HTMLElement[];
    all.forEach((el, i) => el.setAttribute('data-probe-focus', String(i)));
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
    return all.length;
  });
  const reached = new Map<string, { label: string; outline: string; shadow: string }>();
  let first: string | undefined;
  for (let i = 0; i < count + EXTRA_TABS; i++) {
    await page.keyboard.press('Tab');
    const now = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const probe = (window as any).glintProbe;
      return { id: el.getAttribute('data-probe-focus') ?? `other:${probe.describe(el)}`, label: probe.describe(el) as string, ...(probe.focusStyle(el) as { outline: string; shadow: string }) };
    });
    if (!now) continue;
    if (now.id === first) break; // wrapped around
    first ??= now.id;
    if (!reached.has(now.id)) reached.set(now.id, now);
    if (reached.size >= count + 1 && [...Array(count).keys()].every((k) => reached.has(String(k)))) break;
  }
  const problems: string[] = [];
  const missed = await page.evaluate(
    (ids) => [...document.querySelectorAll('[data-probe-focus]')].filter((el) => !ids.includes(el.getAttribute('data-probe-focus')!)).map((el) => (window as any).glintProbe.describe(el) as string),
    [...reached.keys()],
  );
  for (const m of missed) problems.push(`${at}: ${m} cannot be reached with Tab`);
  // unfocused styles of the controls that had no outline: a box-shadow ring counts only if it differs
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  for (const [id, r] of reached) {
    if (r.outline || !id.match(/^\d+$/)) continue;
    const unfocused = await page.evaluate((i) => getComputedStyle(document.querySelector(`[data-probe-focus="${i}"]`)!).boxShadow, id);
    if (r.shadow === unfocused || r.shadow === 'none') problems.push(`${at}: ${r.label} shows no focus indicator (outline none, box-shadow ${r.shadow})`);
  }
  return problems;
}

async function unlabeled(page: Page, at: string): Promise<string[]> {
  await addProbe(page);
  return (await page.evaluate(() => (window as any).glintProbe.unlabeled() as string[])).map((l) => `${at}: ${l}`);
}

/** Opens the phone menu with the keyboard (focus on its button, Enter); throws if it does not open. */
async function openMenuByKeyboard(page: Page): Promise<void> {
  await page.getByTestId('menu-toggle').focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('site-menu').locator('a').first().waitFor({ state: 'visible' });
}

for (const p of PAGES) {
  t(`${p.name}: no serious axe violation, every field labelled, every control reached by Tab with a visible focus`, async ({ o }) => {
    const problems: string[] = [];
    const opened = await openPage(o, p, DESKTOP);
    const { page } = opened;
    try {
      problems.push(...(await axeProblems(page, `${p.name} at 1280`)));
      problems.push(...(await unlabeled(page, `${p.name} at 1280`)));
      problems.push(...(await keyboardProblems(page, `${p.name} at 1280`)));
      await page.setViewportSize(PHONE);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      problems.push(...(await axeProblems(page, `${p.name} at 390`)));
      await openMenuByKeyboard(page);
      problems.push(...(await axeProblems(page, `${p.name} at 390, menu open`)));
      problems.push(...(await unlabeled(page, `${p.name} at 390, menu open`)));
      await page.keyboard.press('Escape');
    } finally {
      if (page === o.studio) await page.setViewportSize(DESKTOP);
      await opened.close();
    }
    assert.ok(problems.length === 0, `${problems.length} accessibility problem(s) on ${p.name}:\n  ${problems.join('\n  ')}\n`);
  });
}

t('the phone menu: its button says whether it is open; Tab walks into it; Escape closes it and focus returns', async ({ o }) => {
  const home = PAGES.find((p) => p.name === 'home') as AppPage;
  const { page, close } = await openPage(o, home, PHONE);
  try {
    const toggle = page.getByTestId('menu-toggle');
    assert.ok(await toggle.isVisible(), 'the menu button shows at 390 px');
    assert.not.ok(await page.getByTestId('nav-categories').isVisible(), 'the navigation is folded away at 390 px');
    assert.is(await toggle.getAttribute('aria-expanded'), 'false');
    await openMenuByKeyboard(page);
    assert.is(await toggle.getAttribute('aria-expanded'), 'true');
    // the menu follows its button in the tab order
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName ?? ''));
    }
    assert.ok(order.includes('nav-categories'), `Tab from the menu button reaches the navigation (got ${order.join(', ')})`);
    await page.keyboard.press('Escape');
    await page.getByTestId('nav-categories').waitFor({ state: 'hidden' });
    assert.is(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'menu-toggle', 'focus back on the menu button');
    // a link in the menu navigates and the menu folds away
    await toggle.click();
    await page.getByTestId('nav-categories').click();
    await page.waitForURL('**/categories');
    await page.getByTestId('nav-categories').waitFor({ state: 'hidden' });
    await page.setViewportSize(DESKTOP);
    assert.ok(await page.getByTestId('nav-categories').isVisible(), 'at 1280 px the navigation is in the header row');
    assert.not.ok(await toggle.isVisible(), 'and there is no menu button');
  } finally {
    await close();
  }
});

t.run();
