import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';

const t = suite('repository');

t('the whole repository type-checks in strict mode (npm run check)', () => {
  const r = spawnSync('npx', ['--no-install', 'tsc', '-p', '.'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.is(JSON.parse(readFileSync('tsconfig.json', 'utf8')).compilerOptions.strict, true);
});

t('the migrations in sql/ match the drizzle schema (drizzle-kit has nothing to generate)', () => {
  const r = spawnSync('npx', ['--no-install', 'drizzle-kit', 'check'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  // generate into a scratch copy of sql/, so a mismatch fails the test without touching the repository
  const out = `.cache/sql-probe-${process.pid}`; // drizzle-kit only takes paths relative to the repo
  cpSync('sql', out, { recursive: true });
  const gen = spawnSync('npx', ['--no-install', 'drizzle-kit', 'generate', '--dialect', 'postgresql', '--schema', './shared/db/schema.ts', '--out', out, '--name', 'probe'], { encoding: 'utf8' });
  rmSync(out, { recursive: true, force: true });
  assert.match(gen.stdout + gen.stderr, /No schema changes/);
});

t.run();
