// Serves the browser app (web/dist, built by scripts/build-web.mjs) with an SPA fallback to index.html.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { WEB_DIST } from '../shared/paths.ts';
import type { AppEnv } from './context.ts';

const dist = WEB_DIST;

/** index.html, re-read when a rebuild changes it (a stat per page load; the file is tiny). */
let cached: { mtimeMs: number; html: string } | undefined;
async function indexHtml(): Promise<string> {
  const file = path.join(dist, 'index.html');
  const { mtimeMs } = await stat(file);
  if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, html: await readFile(file, 'utf8') };
  return cached.html;
}

export const webApp = new Hono<AppEnv>()
  .use('/assets/*', serveStatic({ root: path.relative(process.cwd(), dist), onFound: (_p, c) => c.header('Cache-Control', 'public, max-age=3600') }))
  .get('*', async (c) => {
    // API paths and missing assets are 404s, never the page
    if (/^\/(api|assets)(\/|$)/.test(c.req.path)) return c.notFound();
    try {
      return c.html(await indexHtml());
    } catch {
      return c.text('The web app is not built: run `npm run build` (npm start does it for you).', 503);
    }
  });
