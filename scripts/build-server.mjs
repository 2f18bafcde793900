#!/usr/bin/env node
// Bundles the embedded server (server/main.ts) into .build/api.mjs, and the separate SFU and recorder services'
// (server/sfu.ts, server/recorder.ts) and the transcode worker (server/worker.ts) into .build/sfu.mjs, .build/recorder.mjs
// and .build/worker.mjs (npm packages stay external), so
// the Node services run plain Node: no TypeScript loader in the running server, which keeps an idle Glint ~55 MB
// smaller. The Deno API (server/deno.ts) runs its sources: Deno reads TypeScript itself. Tests and `npm run dev` run the sources with tsx instead. Usage: node scripts/build-server.mjs
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = performance.now();
try {
  await rm(path.join(root, '.build', 'chunks'), { recursive: true, force: true }); // no stale chunks
  await build({
    absWorkingDir: root,
    entryPoints: { api: 'server/main.ts', sfu: 'server/sfu.ts', recorder: 'server/recorder.ts', worker: 'server/worker.ts' },
    outdir: '.build',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    // modules imported on demand (the Meilisearch adapter, ...) become chunks loaded on demand, with the packages they
    // import: inlined, their imports would be hoisted into the bundle and loaded at every start
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'error',
  });
} catch {
  console.error('build-server: failed (esbuild printed why above)');
  process.exit(1);
}
console.log(`build-server: .build/api.mjs + sfu.mjs + recorder.mjs + worker.mjs, ${Math.round(performance.now() - started)} ms`);
