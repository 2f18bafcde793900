// The web client's generated API types match the API as it is: a route or schema changed without regenerating
// web/src/api-types.ts fails here, so the browser's types cannot drift from the server's.
import { readFile } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_TYPES_FILE, apiTypes } from '../../scripts/gen-api-types.ts';

test('web/src/api-types.ts is what the API\'s OpenAPI document generates (run npm run gen:api)', async () => {
  const committed = await readFile(API_TYPES_FILE, 'utf8');
  const fresh = await apiTypes();
  if (committed !== fresh) {
    const a = committed.split('\n');
    const b = fresh.split('\n');
    const line = a.findIndex((l, i) => l !== b[i]);
    assert.unreachable(`web/src/api-types.ts is stale from line ${line + 1} (has ${JSON.stringify(a[line])}, the API gives ${JSON.stringify(b[line])}); run npm run gen:api`);
  }
});

test('the generated types cover the routes the web client calls', async () => {
  const fresh = await apiTypes();
  for (const p of ['"/api/channels/{slug}"', '"/api/vods/{id}"', '"/api/me/notifications"', '"/api/search"']) assert.ok(fresh.includes(`${p}: {`), p);
  assert.match(fresh, /subscribersOnly: boolean;/);
});

test.run();
