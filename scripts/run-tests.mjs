#!/usr/bin/env node
// Runs every tests/**/*.test.ts in its own Node process (uvu inside), files marked `@db-matrix` once against
// PGlite and once against the real PostgreSQL, files marked `@runtime-matrix` once on Node and once on Deno (the
// control plane's two runtimes; each database too where both marks are), then prints one closing line:
// `N passed, N failed`.
// Usage: node scripts/run-tests.mjs [substring ...]   (only files whose path contains one of the substrings)
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FILE_TIMEOUT_MS = Number(process.env.GLINT_TEST_FILE_TIMEOUT_MS ?? 10 * 60_000);
const filters = process.argv.slice(2);

async function findTests(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await findTests(full)));
    else if (entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out.sort();
}

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** How long a Deno test process may take to exit after uvu's summary before it is ended. */
const DENO_EXIT_GRACE_MS = 10_000;
/** Deno from the npm package that ships it (a dependency: scripts/setup.mjs installs it with the rest). */
const DENO = path.join(root, 'node_modules', '.bin', 'deno');

function runFile(file, db, runtime) {
  return new Promise((resolve) => {
    const started = Date.now();
    const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', GLINT_TEST_DB: db ?? '' };
    const [command, args] = runtime === 'deno' ? [DENO, ['run', '--allow-all', '--quiet', file]] : [process.execPath, ['--import', 'tsx', file]];
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const tag = `[${path.relative(root, file)}${db ? ` · ${db}` : ''}${runtime ? ` · ${runtime}` : ''}]`;
    const relay = (stream, sink) =>
      stream.on('data', (chunk) => {
        output += chunk;
        sink.write(chunk);
      });
    relay(child.stdout, process.stdout);
    relay(child.stderr, process.stderr);
    // A Deno test process is ended once uvu has printed its summary, as server/deno.ts ends the process after closing
    // the API: Deno's graceful shutdown can go on waiting for a connection after the browser that held it is gone
    // (the API's close() stops waiting after 5 s; the process would stay up).
    let ended;
    if (runtime === 'deno') {
      child.stdout.on('data', () => {
        if (!ended && /Total:\s+\d+[\s\S]*Duration:/.test(stripAnsi(output))) ended = setTimeout(() => child.kill('SIGKILL'), DENO_EXIT_GRACE_MS);
      });
    }
    const timer = setTimeout(() => {
      process.stderr.write(`\n${tag} timed out after ${FILE_TIMEOUT_MS / 1000}s: killing it\n`);
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(ended);
      // ended by us after its summary: the summary's counts decide
      if (ended && signal === 'SIGKILL') [code, signal] = [0, null];
      const text = stripAnsi(output);
      const total = [...text.matchAll(/Total:\s+(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
      const passed = [...text.matchAll(/Passed:\s+(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
      let failed = total - passed;
      // A file that crashed, hung or exited non-zero without a failing test still counts as one failure.
      if ((code !== 0 || signal) && failed === 0) failed = 1;
      if (total === 0 && failed === 0) failed = 1; // a test file that ran no test is a broken test file
      resolve({ tag, passed, failed, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const files = (await findTests(path.join(root, 'tests'))).filter(
  (f) => filters.length === 0 || filters.some((s) => path.relative(root, f).includes(s)),
);
const runs = [];
for (const file of files) {
  const head = (await readFile(file, 'utf8')).slice(0, 400);
  for (const runtime of head.includes('@runtime-matrix') ? ['node', 'deno'] : [undefined]) {
    for (const db of head.includes('@db-matrix') ? ['pglite', 'postgres'] : [undefined]) runs.push({ file, db, runtime });
  }
}

const results = [];
for (const { file, db, runtime } of runs) results.push(await runFile(file, db, runtime));

console.log('\nSummary');
for (const r of results) {
  console.log(`  ${r.failed ? 'FAIL' : 'ok  '} ${r.tag.padEnd(56)} ${String(r.passed).padStart(3)} passed ${String(r.failed).padStart(2)} failed  ${r.seconds.toFixed(1)}s`);
}
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
