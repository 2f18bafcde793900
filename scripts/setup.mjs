#!/usr/bin/env node
// Installs what Glint needs and is missing, idempotently and fast when everything is there:
// npm packages (when package-lock.json changed since the last install), Debian packages for the chosen purpose, and
// mediasoup's worker binary.
// Usage: node scripts/setup.mjs [--for start|test]
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebs } from './debian.mjs';
import { MEDIASOUP_RUNTIME_DEBS, ensureMediasoupWorker, npmInstallEnv } from './mediasoup-worker.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const purpose = process.argv.includes('--for') ? process.argv[process.argv.indexOf('--for') + 1] : 'start';

/**
 * Debian packages per purpose: the SFU worker's libraries always; the test suite also drives real Caddy and Chromium,
 * and GStreamer's webrtcbin (from Python, tests/helpers/whip-gst.py) as a native, non-browser WHIP publisher.
 */
const DEBIAN = {
  start: [...MEDIASOUP_RUNTIME_DEBS, 'ffmpeg'], // FFmpeg bridges RTMP (OBS) into the SFU
  test: [
    'caddy', 'chromium', 'fonts-liberation',
    'gstreamer1.0-plugins-base', 'gstreamer1.0-plugins-good', 'gstreamer1.0-plugins-bad', 'gstreamer1.0-plugins-ugly',
    'gstreamer1.0-nice', 'gir1.2-gstreamer-1.0', 'gir1.2-gst-plugins-base-1.0', 'gir1.2-gst-plugins-bad-1.0', 'python3-gi',
  ],
};

function fail(msg) {
  console.error(`setup: ${msg}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  return r.status === 0;
}

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) fail(`Node.js 20 or newer is needed; this is ${process.version}.`);

// --- npm packages: reinstall only when the lock file or Node's ABI changed ---
const lock = path.join(root, 'package-lock.json');
const stampFile = path.join(root, 'node_modules', '.glint-install-stamp');
const stamp = createHash('sha256')
  .update(readFileSync(existsSync(lock) ? lock : path.join(root, 'package.json')))
  .update(process.versions.modules)
  .digest('hex');
if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
  console.log('setup: installing npm packages …');
  const args = [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund', '--loglevel=error'];
  // First as usual, so mediasoup's postinstall can download its prebuilt worker where that works. Offline its
  // download-or-build fails; then install again with MEDIASOUP_WORKER_BIN set, which makes the postinstall skip,
  // and ensureMediasoupWorker below builds the worker from Debian's libraries instead.
  const first = spawnSync('npm', args, { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (first.status !== 0) {
    console.log("setup: mediasoup's prebuilt worker cannot be fetched here; installing with the worker built from source …");
    if (!run('npm', args, { env: { ...process.env, ...npmInstallEnv(root) } })) {
      console.error(first.stdout.slice(-3000) + first.stderr.slice(-3000));
      fail('npm install failed (see above).');
    }
  }
  writeFileSync(stampFile, stamp);
}

// --- Debian packages ---
try {
  ensureDebs([...new Set([...(DEBIAN.start ?? []), ...(DEBIAN[purpose] ?? [])])]);
} catch (err) {
  fail(err.message);
}

// --- mediasoup's C++ worker: built from Debian's libraries once, then cached by version ---
try {
  await ensureMediasoupWorker({ root });
} catch (err) {
  fail(err.message);
}

// --- Deno, for the API on Deno (`npm run start:deno`) and the suites that run on both runtimes: the `deno` npm
// package (a dependency) ships the binary for this platform as an optional dependency; check that it runs ---
const deno = spawnSync(path.join(root, 'node_modules', '.bin', 'deno'), ['--version'], { encoding: 'utf8' });
if (deno.status !== 0) {
  const why = `Deno from the deno npm package does not run (${(deno.error?.message ?? deno.stderr ?? '').trim().split('\n')[0]}); optional npm dependencies may have been left out (npm --omit=optional)`;
  if (purpose === 'test') fail(`${why}.`);
  console.log(`setup: ${why}: \`npm run start:deno\` will not work.`);
}
