#!/usr/bin/env node
// Installs what Glint needs and is missing, idempotently and fast when everything is there:
// npm packages (when package-lock.json changed since the last install) and Debian packages for the chosen purpose.
// Usage: node scripts/setup.mjs [--for start|test]
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const purpose = process.argv.includes('--for') ? process.argv[process.argv.indexOf('--for') + 1] : 'start';

/** Debian packages per purpose. `npm start` needs none yet; the test suite drives real Caddy and Chromium. */
const DEBIAN = {
  start: [],
  test: ['caddy', 'chromium', 'fonts-liberation'],
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
  const ok = run('npm', [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund', '--loglevel=error']);
  if (!ok) fail('npm install failed (see above).');
  writeFileSync(stampFile, stamp);
}

// --- Debian packages ---
const wanted = [...new Set([...(DEBIAN.start ?? []), ...(DEBIAN[purpose] ?? [])])];
const installed = (pkg) => {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg], { stdio: ['ignore', 'pipe', 'ignore'] }).toString() === 'installed';
  } catch {
    return false;
  }
};
const missing = wanted.filter((p) => !installed(p));
if (missing.length) {
  if (!existsSync('/usr/bin/apt-get')) fail(`missing system packages ${missing.join(' ')} and no apt-get here; install them by hand.`);
  const asRoot = process.getuid?.() === 0;
  const viaSudo = !asRoot && spawnSync('sudo', ['-n', 'true']).status === 0;
  if (!asRoot && !viaSudo) fail(`missing system packages: ${missing.join(' ')}. Run: sudo apt-get install -y ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const aptGet = (...args) => (viaSudo ? run('sudo', ['-n', 'apt-get', ...args], { env }) : run('apt-get', args, { env }));
  const listsEmpty = !existsSync('/var/lib/apt/lists') || !readdirSync('/var/lib/apt/lists').some((f) => f.endsWith('_Packages'));
  console.log(`setup: installing Debian packages: ${missing.join(' ')} …`);
  if (listsEmpty) aptGet('update', '-qq');
  const install = () => aptGet('install', '-y', '-qq', '--no-install-recommends', ...missing);
  // stale package lists are the usual cause of a failed install: refresh once and retry
  if (!install() && !(aptGet('update', '-qq') && install())) fail(`apt-get install ${missing.join(' ')} failed.`);
}
