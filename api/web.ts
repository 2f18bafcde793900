// Serves the browser app (web/dist, built by scripts/build-web.mjs) with an SPA fallback to index.html, and the
// static-file middleware the API's docs assets use too. Portable: Hono's own serveStatic walks and checks the path,
// and the files come from shared/host/files.ts.
import { Hono, type Context, type Env, type MiddlewareHandler } from 'hono';
import { serveStatic } from 'hono/serve-static';
import { getMimeType } from 'hono/utils/mime';
import { fileToSend, isDirectory, joinPath, modifiedAt, readText } from '../shared/host/files.ts';
import { WEB_DIST } from '../shared/host/paths.ts';
import { parseRange, rangeResponse } from '../shared/media-http.ts';
import type { AppEnv } from './context.ts';

const dist = WEB_DIST;

/**
 * GET and HEAD of the files under `root` (a directory's index.html for a directory), with their size and last change;
 * a path that is not a file goes on to the next handler. No Cache-Control, as before this was portable: the one the
 * assets were given (`public, max-age=3600`) was set after @hono/node-server had built the response and never reached
 * a browser, and with no content hash in the assets' names it would let a cached app.js outlive a deploy by an hour.
 * A Range is answered by shared/media-http.ts's rules, as the recordings' are.
 */
export function serveFiles<E extends Env>(opts: { root: string; rewriteRequestPath?: (path: string) => string }): MiddlewareHandler<E> {
  return serveStatic<E>({
    root: opts.root,
    join: joinPath,
    isDir: isDirectory,
    ...(opts.rewriteRequestPath ? { rewriteRequestPath: opts.rewriteRequestPath } : {}),
    getContent: async (file, c: Context<E>) => {
      const found = await fileToSend(file);
      if (!found) return null;
      c.header('Last-Modified', found.modified.toUTCString());
      const range = c.req.header('range');
      if (range && c.req.method === 'GET') {
        // a Response is sent as it is: it carries its own type
        c.header('Content-Type', getMimeType(file) ?? 'application/octet-stream');
        c.header('Accept-Ranges', 'bytes');
        // one parser of Range for every file Glint serves (shared/media-http.ts): the web app's and the recordings'
        const part = parseRange(range, found.size);
        if (part === 'unsatisfiable') return new Response(null, { status: 416, headers: { 'Content-Range': `bytes */${found.size}` } });
        if (part) {
          const { status, headers } = rangeResponse(part, found.size);
          return new Response(found.open(part), { status, headers });
        }
      }
      c.header('Content-Length', String(found.size));
      // a HEAD answers with the headers only: the file is not opened
      return c.req.method === 'HEAD' ? new Uint8Array(0) : found.open();
    },
  });
}

/** index.html, re-read when a rebuild changes it (a stat per page load; the file is tiny). */
let cached: { mtimeMs: number; html: string } | undefined;
async function indexHtml(): Promise<string> {
  const file = joinPath(dist, 'index.html');
  const mtimeMs = await modifiedAt(file);
  if (mtimeMs === undefined) throw new Error(`${file} does not exist`);
  if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, html: await readText(file) };
  return cached.html;
}

export const webApp = new Hono<AppEnv>()
  .use('/assets/*', serveFiles({ root: dist }))
  .get('*', async (c) => {
    // API paths and missing assets are 404s, never the page
    if (/^\/(api|assets)(\/|$)/.test(c.req.path)) return c.notFound();
    try {
      return c.html(await indexHtml());
    } catch {
      return c.text('The web app is not built: run `npm run build` (npm start does it for you).', 503);
    }
  });
