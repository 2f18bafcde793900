// Debian packages the project needs, installed with apt-get when missing (as root or via `sudo -n`).
// Shared by scripts/setup.mjs and scripts/mediasoup-worker.mjs. Plain Node ESM, node: builtins only.
import { spawnSync } from 'node:child_process';


function debInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout === 'installed';
}

/** Installs the missing ones of `pkgs` with apt-get (as root or via `sudo -n`). */
export function ensureDebs(pkgs, log = (msg) => console.log(msg)) {
  if (spawnSync('dpkg-query', ['--version']).status !== 0) {
    log(`setup: no dpkg here; make sure the equivalents of ${pkgs.join(' ')} are installed.`);
    return;
  }
  const missing = pkgs.filter((p) => !debInstalled(p));
  if (!missing.length) return;
  const asRoot = process.getuid?.() === 0;
  const viaSudo = !asRoot && spawnSync('sudo', ['-n', 'true']).status === 0;
  if (!asRoot && !viaSudo) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}. Run: sudo apt-get install -y ${missing.join(' ')}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const aptGet = (...args) => {
    const [cmd, argv] = viaSudo ? ['sudo', ['-n', 'apt-get', ...args]] : ['apt-get', args];
    const r = spawnSync(cmd, argv, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  };
  log(`setup: installing Debian packages: ${missing.join(' ')} …`);
  const install = () => aptGet('install', '-y', '-qq', '--no-install-recommends', ...missing);
  let r = install();
  if (!r.ok) {
    // stale or absent package lists are the usual cause: refresh once and retry
    const u = aptGet('update', '-qq');
    if (u.ok) r = install();
    else r = { ok: false, out: `${r.out}\n${u.out}` };
  }
  if (!r.ok) {
    throw new Error(`apt-get install ${missing.join(' ')} failed:\n${r.out.trim().split('\n').slice(-15).join('\n')}`);
  }
}

