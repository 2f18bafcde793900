#!/usr/bin/env node
// Makes mediasoup's C++ worker binary (`mediasoup-worker`) available without downloading anything
// but Debian packages.
//
// Why this exists: mediasoup's npm postinstall fetches a prebuilt worker from GitHub and, failing
// that, pip-installs meson and builds the worker with wrap files that download OpenSSL, libuv,
// abseil, libsrtp, usrsctp, … from GitHub/wrapdb. On Glint's machines only the npm registry and the
// Debian archive are reachable, so both routes fail. mediasoup 3.12.x (the line before its
// flatbuffers IPC) builds fine against Debian bookworm's own libraries, so this script:
//   1. lets setup skip the postinstall by setting MEDIASOUP_WORKER_BIN during `npm ci`
//      (see `npmInstallEnv()`; mediasoup's postinstall does nothing when that variable is set);
//   2. builds the worker once from the sources shipped inside the npm package (worker/), in a
//      temporary copy whose subprojects/*.wrap downloads are replaced by tiny local subprojects that
//      hand out Debian's pkg-config dependencies, with Debian's meson (1.0.1) + ninja;
//   3. keeps the binary in a cache outside node_modules,
//      ${XDG_CACHE_HOME:-~/.cache}/glint/mediasoup-worker/<version>-<platform>-<arch>/mediasoup-worker,
//      so a reinstall of node_modules costs a copy, not a 5–8 minute build (2 cores);
//   4. copies it to the path mediasoup looks at when MEDIASOUP_WORKER_BIN is not set at run time:
//      node_modules/mediasoup/worker/out/Release/mediasoup-worker.
// A working binary already at that path (e.g. a prebuilt downloaded where GitHub is reachable) is kept.
// The binary links Debian's shared libraries dynamically: MEDIASOUP_RUNTIME_DEBS must be installed
// wherever it runs (the script installs them when the binary fails to load).
//
// Plain Node ESM with node: builtins only (it runs before any TypeScript tooling).
// Usage: node scripts/mediasoup-worker.mjs [--root DIR] [--force]
//   --root DIR  repo root holding node_modules/mediasoup (default: this repo)
//   --force     rebuild even when a cached or installed binary works
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebs } from './debian.mjs';

/** Debian packages needed to build the worker. */
export const MEDIASOUP_BUILD_DEBS = [
  'g++',
  'pkg-config',
  'python3',
  'meson',
  'ninja-build',
  'libssl-dev',
  'libuv1-dev',
  'libsrtp2-dev',
  'libusrsctp-dev',
  'libabsl-dev',
  'nlohmann-json3-dev',
];

/** Debian packages the built worker needs at run time (its shared libraries). */
export const MEDIASOUP_RUNTIME_DEBS = ['libssl3', 'libuv1', 'libsrtp2-1', 'libusrsctp2', 'libabsl20220623', 'libnss3'];

const TAG = 'mediasoup-worker:';
const defaultLog = (msg) => console.log(msg);

/** Cache directory for one mediasoup version on this platform. */
export const workerCacheDir = (version) =>
  path.join(
    process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'),
    'glint',
    'mediasoup-worker',
    `${version}-${process.platform}-${process.arch}`,
  );

/** Where the cached worker binary of `version` lives (may not exist yet). */
export const workerCachePath = (version) => path.join(workerCacheDir(version), 'mediasoup-worker');

/** The path mediasoup 3.12 spawns when MEDIASOUP_WORKER_BIN is unset (node/lib/Worker.js). */
export const defaultWorkerPath = (root) =>
  path.join(root, 'node_modules', 'mediasoup', 'worker', 'out', 'Release', 'mediasoup-worker');

/** Version of the installed node_modules/mediasoup, or null when it is not installed. */
export function installedMediasoupVersion(root) {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'mediasoup', 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** Version of mediasoup pinned in package-lock.json (known before `npm ci`), or null. */
export function lockedMediasoupVersion(root) {
  try {
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
    return lock.packages?.['node_modules/mediasoup']?.version ?? lock.dependencies?.mediasoup?.version ?? null;
  } catch {
    return null;
  }
}

/**
 * Environment additions for `npm ci`/`npm install`: a non-empty MEDIASOUP_WORKER_BIN makes mediasoup's
 * postinstall skip its download/pip/build attempts (npm 10 runs it; npm 11 only when approved).
 * The value only matters to that postinstall; at run time mediasoup finds the binary at the default path.
 */
export function npmInstallEnv(root) {
  const version = lockedMediasoupVersion(root) ?? installedMediasoupVersion(root) ?? 'unknown';
  return { MEDIASOUP_WORKER_BIN: workerCachePath(version) };
}

/**
 * Does `bin` start? Run without MEDIASOUP_VERSION, a mediasoup 3.x worker prints
 * "you don't seem to be my real father!" and exits 41 within milliseconds; a binary with a missing
 * shared library fails in the loader instead.
 */
export function checkWorkerBinary(bin) {
  if (!fs.existsSync(bin)) return { ok: false, reason: 'missing' };
  const r = spawnSync(bin, [], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 5000, encoding: 'utf8' });
  if (r.error) return { ok: false, reason: r.error.message };
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status === 41 || out.includes('real father')) return { ok: true };
  return {
    ok: false,
    missingLibs: out.includes('error while loading shared libraries'),
    reason: out.trim().split('\n').slice(-3).join(' | ') || `exit ${r.status ?? r.signal}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Local replacements for worker/subprojects/*.wrap

/**
 * What each subproject variable that worker's meson files read becomes. `deps` maps a `*_dep`
 * variable to pkg-config modules (all of Debian bookworm's -dev packages above ship .pc files).
 * Any other variable (`libuv`, `libssl_lib`, `absl_container_lib`, …) is only fed to `link_whole`
 * of `libmediasoup-worker`, a library target built only on request (never here): it becomes an
 * empty static library so that meson's configure step is satisfied.
 */
const SUBPROJECTS = {
  openssl: { deps: { openssl_dep: ['openssl'], libcrypto_dep: ['libcrypto'], libssl_dep: ['libssl'] } },
  nlohmann_json: { deps: { nlohmann_json_dep: ['nlohmann_json'] } },
  libuv: { deps: { libuv_dep: ['libuv'] } },
  // Debian installs srtp.h in <includedir>/srtp2/ but its .pc file adds no -I for it; the worker
  // includes <srtp.h>. (Debian's libsrtp2 uses NSS, not OpenSSL, as crypto backend; AES-GCM works.)
  libsrtp2: { deps: { libsrtp2_dep: ['libsrtp2'] }, includeSubdir: { libsrtp2: 'srtp2' } },
  usrsctp: { deps: { usrsctp_dep: ['usrsctp'] } },
  'abseil-cpp': {
    deps: {
      absl_container_dep: [
        'absl_flat_hash_map',
        'absl_flat_hash_set',
        'absl_node_hash_map',
        'absl_node_hash_set',
        'absl_inlined_vector',
        'absl_btree',
        'absl_fixed_array',
      ],
      absl_strings_dep: ['absl_strings', 'absl_str_format'],
      absl_types_dep: ['absl_optional', 'absl_variant', 'absl_span', 'absl_any', 'absl_memory'],
      absl_base_dep: ['absl_base'],
      absl_hash_dep: ['absl_hash'],
      absl_numeric_dep: ['absl_numeric'],
      absl_synchronization_dep: ['absl_synchronization'],
      absl_time_dep: ['absl_time'],
      absl_status_dep: ['absl_status'],
      absl_debugging_dep: ['absl_debugging'],
    },
  },
  // Only the test binaries use Catch2 (v2 API; bookworm ships v3): an empty dependency suffices.
  catch2: { deps: { catch2_dep: [] } },
  // Windows only.
  wingetopt: { deps: { wingetopt_dep: [] } },
};

/** Built-in meson options, which a subproject's default_options may set without declaring them. */
const isBuiltinOption = (key) =>
  /^(b_|c_|cpp_|backend_)/.test(key) ||
  ['warning_level', 'werror', 'default_library', 'buildtype', 'optimization', 'debug', 'unity', 'strip', 'prefix'].includes(key);

/** All meson.build files of the worker tree except subprojects/. */
function mesonFiles(dir) {
  const found = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (p !== path.join(dir, 'subprojects') && p !== path.join(dir, 'out')) walk(p);
      } else if (e.name === 'meson.build') found.push(p);
    }
  };
  walk(dir);
  return found;
}

/** Reads which subprojects the worker's meson files use, with their default_options and the variables read. */
function scanSubprojects(workerDir) {
  const subs = new Map(); // name -> { options: Set, vars: Set }
  const byVar = new Map(); // meson variable holding the subproject -> name
  const sources = mesonFiles(workerDir).map((f) => fs.readFileSync(f, 'utf8'));
  for (const src of sources) {
    for (const m of src.matchAll(/(\w+)\s*=\s*subproject\(\s*'([^']+)'([^)]*)\)/g)) {
      const [, varName, name, rest] = m;
      byVar.set(varName, name);
      const entry = subs.get(name) ?? { options: new Set(), vars: new Set() };
      const opts = rest.match(/default_options\s*:\s*\[([^\]]*)\]/);
      for (const o of opts?.[1].matchAll(/'([^'=]+)=/g) ?? []) {
        if (!isBuiltinOption(o[1])) entry.options.add(o[1]);
      }
      subs.set(name, entry);
    }
  }
  for (const src of sources) {
    for (const m of src.matchAll(/(\w+)\.get_variable\(\s*'([^']+)'/g)) {
      const name = byVar.get(m[1]);
      if (name) subs.get(name).vars.add(m[2]);
    }
  }
  return subs;
}

function subprojectMeson(name, vars, recipe) {
  const lines = [
    `# Written by Glint's scripts/mediasoup-worker.mjs in place of subprojects/${name}.wrap:`,
    '# hands out Debian\'s pkg-config dependencies instead of downloading and building the sources.',
    `project('${name}', 'c', 'cpp')`,
    '',
  ];
  let needsStub = false;
  for (const v of [...vars].sort()) {
    const mods = recipe.deps[v];
    if (mods) {
      const items = mods.map((mod) => {
        const sub = recipe.includeSubdir?.[mod];
        if (!sub) return `dependency('${mod}')`;
        return (
          `declare_dependency(dependencies: dependency('${mod}'), compile_args: ['-I' + ` +
          `(dependency('${mod}').get_variable(pkgconfig: 'includedir', default_value: '/usr/include') / '${sub}')])`
        );
      });
      lines.push(`${v} = declare_dependency(dependencies: [${items.join(', ')}])`);
    } else if (v.endsWith('_dep')) {
      throw new Error(`worker reads ${name}'s '${v}', which this script cannot map to a Debian package yet`);
    } else {
      needsStub = true;
      lines.push(`${v} = static_library('glint_stub_${v}', 'glint_stub.c')  # only for libmediasoup-worker's link_whole`);
    }
  }
  return { meson: `${lines.join('\n')}\n`, needsStub };
}

/** Rewrites a copy of worker/ so that it configures offline against Debian's libraries. */
function prepareSources(workerDir, log) {
  const subDir = path.join(workerDir, 'subprojects');
  fs.mkdirSync(subDir, { recursive: true });
  for (const f of fs.readdirSync(subDir)) {
    // the downloads (and their overlay patches) go; local subproject dirs take their place
    fs.rmSync(path.join(subDir, f), { recursive: true, force: true });
  }
  const subs = scanSubprojects(workerDir);
  const done = [];
  for (const [name, { options, vars }] of subs) {
    const recipe = SUBPROJECTS[name];
    if (!recipe) throw new Error(`worker uses subproject '${name}', which this script cannot map to a Debian package yet`);
    const dir = path.join(subDir, name);
    fs.mkdirSync(dir);
    const { meson, needsStub } = subprojectMeson(name, vars, recipe);
    fs.writeFileSync(path.join(dir, 'meson.build'), meson);
    if (needsStub) fs.writeFileSync(path.join(dir, 'glint_stub.c'), 'int glint_stub_unused(void);\n');
    if (options.size) {
      // the worker passes e.g. 'build_tests=false': meson rejects options a subproject does not declare
      const decl = [...options].map((o) => `option('${o}', type: 'string', value: '', description: 'ignored')`);
      fs.writeFileSync(path.join(dir, 'meson_options.txt'), `${decl.join('\n')}\n`);
    }
    done.push(`${name}(${[...vars].join(',')})`);
  }
  log(`${TAG} subprojects mapped to Debian packages: ${done.join(' ')}`);

  // mediasoup 3.12 asks for meson >= 1.1 but builds with Debian bookworm's 1.0.1
  const top = path.join(workerDir, 'meson.build');
  const src = fs.readFileSync(top, 'utf8');
  fs.writeFileSync(top, src.replace(/meson_version\s*:\s*'[^']*'/, "meson_version: '>= 1.0.0'"));
}

// ---------------------------------------------------------------------------------------------
// Build

function runLogged(cmd, args, { cwd, logFile, onLine }) {
  return new Promise((resolve) => {
    fs.appendFileSync(logFile, `\n$ ${cmd} ${args.join(' ')}\n`);
    const out = fs.openSync(logFile, 'a');
    const child = spawn(cmd, args, { cwd, env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const onData = (buf) => {
      fs.writeSync(out, buf);
      if (!onLine) return;
      const text = partial + buf.toString();
      const lines = text.split('\n');
      partial = lines.pop();
      for (const l of lines) onLine(l);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => {
      fs.writeSync(out, `${e.message}\n`);
    });
    child.on('close', (code) => {
      fs.closeSync(out);
      resolve(code === 0);
    });
  });
}

/** The last `n` lines of the log, without ninja's progress lines ("[12/167] Compiling …"). */
function tail(file, n = 40) {
  try {
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return lines.filter((l) => !/^\[\d+\/\d+\] /.test(l)).slice(-n).join('\n');
  } catch {
    return '';
  }
}

function installCopy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const tmp = `${to}.tmp-${process.pid}`;
  fs.copyFileSync(from, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, to);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** One build per cache dir at a time: a second caller waits for the first and then reuses its result. */
async function withLock(dir, log, fn) {
  const lock = path.join(dir, '.lock');
  let waited = false;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let pid = 0;
      try {
        pid = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {}
      if (pid && !pidAlive(pid)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!pid) {
        // being created right now, or left behind half-written long ago
        const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        if (age > 10_000) fs.rmSync(lock, { recursive: true, force: true });
      }
      if (!waited) log(`${TAG} another process (pid ${pid || '?'}) is building it; waiting …`);
      waited = true;
      await sleep(2000);
    }
  }
  try {
    return await fn(waited);
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

async function build({ root, version, log }) {
  const cacheDir = workerCacheDir(version);
  const cached = workerCachePath(version);
  const logFile = path.join(cacheDir, 'build.log');
  const srcWorker = path.join(root, 'node_modules', 'mediasoup', 'worker');
  if (!fs.existsSync(path.join(srcWorker, 'meson.build'))) {
    throw new Error(`${srcWorker}/meson.build is missing: this mediasoup package ships no worker sources to build.`);
  }
  if (process.platform !== 'linux') {
    throw new Error(`building the worker from Debian packages only works on Linux (this is ${process.platform}).`);
  }

  fs.writeFileSync(logFile, `mediasoup-worker ${version} build, ${new Date().toISOString()}\n`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'glint-mediasoup-worker-'));
  try {
    const workerDir = path.join(tmp, 'worker');
    const buildDir = path.join(tmp, 'build');
    const fail = (what) => {
      let mesonLog = '';
      try {
        fs.copyFileSync(path.join(buildDir, 'meson-logs', 'meson-log.txt'), path.join(cacheDir, 'meson-log.txt'));
        mesonLog = ` (meson's own log, copied out of the deleted build tree: ${path.join(cacheDir, 'meson-log.txt')})`;
      } catch {}
      log(`${TAG} ${what} failed; last lines of ${logFile}:\n${tail(logFile)}\n${TAG} end of log${mesonLog}`);
      throw new Error(`building mediasoup-worker ${version} failed at ${what} (full log: ${logFile})`);
    };

    // a copy: node_modules stays as npm left it. Mapping the subprojects first fails fast on a
    // mediasoup version whose dependencies this script does not know, before any apt-get.
    fs.cpSync(srcWorker, workerDir, { recursive: true, filter: (p) => p !== path.join(srcWorker, 'out') });
    prepareSources(workerDir, (msg) => fs.appendFileSync(logFile, `${msg}\n`));

    ensureDebs(MEDIASOUP_BUILD_DEBS, log);

    const cores = os.availableParallelism?.() ?? os.cpus().length;
    log(`${TAG} building ${version} from source (about ${Math.max(2, Math.round(12 / cores))} min on ${cores} cores); log: ${logFile}`);
    const started = Date.now();
    const setupArgs = [
      'setup',
      '--wrap-mode=nodownload',
      '--buildtype=release',
      '-Db_ndebug=true',
      '-Db_pie=true',
      '-Db_staticpic=true',
      '-Db_colorout=never',
      buildDir,
    ];
    if (!(await runLogged('meson', setupArgs, { cwd: workerDir, logFile }))) fail('meson setup');

    let lastReported = 0;
    const onLine = (line) => {
      const m = line.match(/^\[(\d+)\/(\d+)\]/);
      if (!m) return;
      const pct = Math.floor((100 * Number(m[1])) / Number(m[2]));
      if (pct >= lastReported + 25 && pct < 100) {
        lastReported = pct - (pct % 25);
        log(`${TAG} … ${lastReported}% (${Math.round((Date.now() - started) / 1000)} s)`);
      }
    };
    // only the worker executable: not the tests, fuzzer or libmediasoup-worker
    if (!(await runLogged('ninja', ['-C', buildDir, 'mediasoup-worker'], { cwd: workerDir, logFile, onLine }))) fail('ninja');

    const built = path.join(buildDir, 'mediasoup-worker');
    const check = checkWorkerBinary(built);
    if (!check.ok) fail(`running the built binary (${check.reason})`);
    // debug symbols are of no use here and make up a fifth of the file
    spawnSync('strip', ['--strip-unneeded', built]);
    installCopy(built, cached);
    const secs = Math.round((Date.now() - started) / 1000);
    fs.appendFileSync(logFile, `\nbuilt in ${secs} s\n`);
    log(`${TAG} built ${version} in ${Math.floor(secs / 60)} min ${secs % 60} s → ${cached}`);
  } catch (e) {
    fs.appendFileSync(logFile, `\nFAILED: ${e.message}\n`);
    throw e;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

/** A binary at `bin` that loads, installing the runtime Debian packages if shared libraries are missing. */
function works(bin, log) {
  let c = checkWorkerBinary(bin);
  if (!c.ok && c.missingLibs) {
    ensureDebs(MEDIASOUP_RUNTIME_DEBS, log);
    c = checkWorkerBinary(bin);
  }
  return c;
}

/**
 * Makes sure `<root>/node_modules/mediasoup/worker/out/Release/mediasoup-worker` is a working worker:
 * keeps a working one that is there, else copies the cached build, else builds and caches it.
 * Returns { version, bin, source: 'present' | 'cache' | 'built' }, or null when mediasoup is not installed.
 * Throws on failure (after logging the tail of the build log).
 */
export async function ensureMediasoupWorker({ root, log = defaultLog, force = false } = {}) {
  root = path.resolve(root ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
  const version = installedMediasoupVersion(root);
  if (!version) {
    log(`${TAG} mediasoup is not installed under ${root}/node_modules; nothing to do.`);
    return null;
  }
  const target = defaultWorkerPath(root);
  const cached = workerCachePath(version);

  if (!force && works(target, log).ok) return { version, bin: target, source: 'present' };
  if (!force && works(cached, log).ok) {
    installCopy(cached, target);
    log(`${TAG} ${version} restored from ${cached}`);
    return { version, bin: target, source: 'cache' };
  }

  fs.mkdirSync(workerCacheDir(version), { recursive: true });
  const source = await withLock(workerCacheDir(version), log, async (waited) => {
    // someone else may have built it while we waited for the lock
    if (waited && !force && checkWorkerBinary(cached).ok) return 'cache';
    await build({ root, version, log });
    return 'built';
  });
  installCopy(cached, target);
  const c = checkWorkerBinary(target);
  if (!c.ok) throw new Error(`the worker copied to ${target} does not run: ${c.reason}`);
  if (source === 'cache') log(`${TAG} ${version} built by another process; restored from ${cached}`);
  return { version, bin: target, source };
}

const isMain = (() => {
  try {
    return fs.realpathSync(process.argv[1] ?? '') === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (isMain) {
  const argv = process.argv.slice(2);
  const rootIdx = argv.indexOf('--root');
  const root = rootIdx >= 0 ? argv[rootIdx + 1] : undefined;
  try {
    const r = await ensureMediasoupWorker({ root, force: argv.includes('--force') });
    if (r && r.source !== 'cache') console.log(`${TAG} ${r.version} ready at ${r.bin}`);
  } catch (e) {
    console.error(`${TAG} ${e.message}`);
    process.exit(1);
  }
}
