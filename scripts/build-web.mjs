#!/usr/bin/env node
// Builds the browser app: web/src/main.tsx → web/dist/assets/app.js (esbuild), web/src/style.css and its imports (web/src/styles/) → web/dist/assets/style.css,
// hls.js's browser build → web/dist/assets/hls.min.js,
// and web/dist/index.html from web/index.html with cache-busting ?v=<hash> asset URLs. Plain Node ESM (runs before tsx).
// Idempotent: files whose content did not change are not rewritten. Usage: node scripts/build-web.mjs
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'web');
const dist = path.join(web, 'dist');
const assets = path.join(dist, 'assets');

const hash = (data) => createHash('sha256').update(data).digest('hex').slice(0, 12);

/** Writes the file only when its content differs (keeps mtimes stable and the build cheap). */
async function writeIfChanged(file, data) {
  const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  try {
    if ((await readFile(file)).equals(bytes)) return false;
  } catch {
    // missing: write it
  }
  await writeFile(file, bytes);
  return true;
}

// hls.js (VoD playback where the browser has no native HLS) is served as its own file, loaded only by the player
const hlsJs = await readFile(path.join(root, 'node_modules/hls.js/dist/hls.min.js'));
const hlsUrl = `/assets/hls.min.js?v=${hash(hlsJs)}`;

const started = performance.now();
let result;
try {
  result = await build({
    absWorkingDir: root,
    entryPoints: [path.join(web, 'src/main.tsx')],
    outfile: path.join(assets, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    sourcesContent: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    charset: 'utf8',
    define: { 'process.env.NODE_ENV': '"production"', __HLS_JS_URL__: JSON.stringify(hlsUrl) },
    write: false,
    logLevel: 'silent',
  });
} catch (err) {
  // esbuild's BuildFailure carries formatted errors; print them the way esbuild would.
  const { formatMessages } = await import('esbuild');
  const errors = err?.errors?.length ? await formatMessages(err.errors, { kind: 'error', color: process.stderr.isTTY }) : [String(err?.message ?? err)];
  console.error(`build-web: failed\n${errors.join('\n')}`);
  process.exit(1);
}

await mkdir(assets, { recursive: true });
let changed = 0;
let jsHash = '';
let jsBytes = 0;
for (const out of result.outputFiles) {
  if (out.path.endsWith('.js')) {
    jsHash = hash(out.contents);
    jsBytes = out.contents.byteLength;
  }
  if (await writeIfChanged(out.path, out.contents)) changed++;
}

if (await writeIfChanged(path.join(assets, 'hls.min.js'), hlsJs)) changed++;

// web/src/style.css imports one file per part of the app (web/src/styles/); esbuild bundles them in order, minified.
let css;
try {
  const styles = await build({
    absWorkingDir: root,
    entryPoints: [path.join(web, 'src/style.css')],
    outfile: path.join(assets, 'style.css'),
    bundle: true,
    minify: true,
    target: ['chrome110', 'firefox110', 'safari16'],
    write: false,
    logLevel: 'silent',
  });
  css = styles.outputFiles.find((f) => f.path.endsWith('.css')).contents;
} catch (err) {
  const { formatMessages } = await import('esbuild');
  const errors = err?.errors?.length ? await formatMessages(err.errors, { kind: 'error', color: process.stderr.isTTY }) : [String(err?.message ?? err)];
  console.error(`build-web: the stylesheet failed\n${errors.join('\n')}`);
  process.exit(1);
}
if (await writeIfChanged(path.join(assets, 'style.css'), css)) changed++;

const template = await readFile(path.join(web, 'index.html'), 'utf8');
const html = template
  .replaceAll('/assets/app.js', `/assets/app.js?v=${jsHash}`)
  .replaceAll('/assets/style.css', `/assets/style.css?v=${hash(css)}`);
if (await writeIfChanged(path.join(dist, 'index.html'), html)) changed++;

const ms = Math.round(performance.now() - started);
console.log(`build-web: web/dist ${changed ? `updated (${changed} file${changed === 1 ? '' : 's'})` : 'up to date'}, app.js ${(jsBytes / 1024).toFixed(1)} KiB, ${ms} ms`);
