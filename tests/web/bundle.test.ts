// The browser bundle reads the rules from shared/ without dragging in what only the server needs: shared/bounds.ts
// is in it, zod (half a megabyte minified) and shared/rules.ts are not. Reads web/dist's source map (npm run build).
import { readFile } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const sources = async () => (JSON.parse(await readFile('web/dist/assets/app.js.map', 'utf8')) as { sources: string[] }).sources;

test('web/dist/assets/app.js bundles the shared bounds, and no zod or shared/rules.ts', async () => {
  const all = await sources();
  assert.ok(all.some((s) => s.endsWith('shared/bounds.ts')), 'the web client reads its limits from shared/bounds.ts');
  assert.equal(all.filter((s) => /node_modules\/zod\/|shared\/(rules|config|db\/)/.test(s)), [], 'server-side modules in the browser bundle');
});

test('the browser bundle carries the typed client (openapi-fetch) and one Socket.IO client', async () => {
  const all = await sources();
  assert.ok(all.some((s) => s.includes('node_modules/openapi-fetch/')));
  assert.ok(all.some((s) => s.endsWith('/src/socket.ts')), 'web/src/socket.ts opens the page\'s one socket');
});

test.run();
