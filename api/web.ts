// Serves the browser app (web/dist, built by scripts/build-web.mjs) with an SPA fallback to index.html.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { AppEnv } from './context.ts';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web/dist');

let indexHtml: Promise<string> | undefined;

export const webApp = new Hono<AppEnv>()
  .use('/assets/*', serveStatic({ root: path.relative(process.cwd(), dist), onFound: (_p, c) => c.header('Cache-Control', 'public, max-age=3600') }))
  .get('*', async (c) => {
    if (c.req.path === '/api' || c.req.path.startsWith('/api/')) return c.notFound(); // API paths never get the page
    indexHtml ??= readFile(path.join(dist, 'index.html'), 'utf8').catch((err) => {
      indexHtml = undefined;
      throw err;
    });
    try {
      return c.html(await indexHtml);
    } catch {
      return c.text('The web app is not built: run `npm run build:web` (npm start does it for you).', 503);
    }
  });
