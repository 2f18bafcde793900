#!/usr/bin/env node
// Bundles the API's TypeScript into .build/api.mjs and the separate recorder service's into .build/recorder.mjs
// (npm packages stay external) so `npm start` runs plain Node: no TypeScript loader in the running server, which
// keeps an idle Glint ~55 MB smaller. Tests and `npm run dev` run the sources with tsx instead. Usage: node scripts/build-server.mjs
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = performance.now();
try {
  await build({
    absWorkingDir: root,
    entryPoints: { api: 'api/main.ts', recorder: 'recorder/main.ts' },
    outdir: '.build',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'error',
  });
} catch {
  console.error('build-server: failed (esbuild printed why above)');
  process.exit(1);
}
console.log(`build-server: .build/api.mjs + recorder.mjs, ${Math.round(performance.now() - started)} ms`);
