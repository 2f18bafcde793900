// The web client is typed from the contract: pages and components reach the API only through web/src/api.ts (the
// openapi-fetch client on web/src/api-types.ts, generated from the OpenAPI document). A raw fetch(), XMLHttpRequest,
// sendBeacon or EventSource anywhere else in web/src would talk to the API untyped, and so would a call of api.ts's
// `request` (its escape hatch for what the contract does not describe). The one exception is web/src/live: its WHIP and
// WHEP SDP exchanges are not JSON API routes, and it names no /api path.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { codeOnly, sources, withoutComments } from '../source-reader.ts';

const CLIENT = 'web/src/api.ts';
const GENERATED = 'web/src/api-types.ts';
const MEDIA = 'web/src/live/';

/** The ways a browser sends a request by hand, in code (comments and string literals do not count). */
function rawCalls(text: string): string[] {
  return [...codeOnly(text).matchAll(/\bfetch\s*\(|\bXMLHttpRequest\b|\bsendBeacon\s*\(|\bEventSource\s*\(/g)].map((m) => m[0].replace(/\s/g, ''));
}

/** Names a module imports from api.ts that bypass the typed client. */
function untypedImports(text: string): string[] {
  const found: string[] = [];
  for (const m of withoutComments(text).matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*['"][./]*(?:[\w-]+\/)*api\.ts['"]/g)) {
    for (const name of m[1]!.split(',').map((s) => s.trim().split(/\s+as\s+/)[0]!.replace(/^type\s+/, ''))) {
      if (name === 'request' || name === 'query') found.push(name);
    }
  }
  return found;
}

const files = sources('web/src').filter((f) => f !== GENERATED);
const t = suite('web client typed from the contract');

t('the checks see raw requests in code, not in comments or strings, and untyped imports of api.ts', () => {
  assert.equal(rawCalls("const r = await fetch('/api/channels');"), ['fetch(']);
  assert.equal(rawCalls('window.fetch (url); const x = new XMLHttpRequest(); navigator.sendBeacon(u); new EventSource(u);'), ['fetch(', 'XMLHttpRequest', 'sendBeacon(', 'EventSource(']);
  assert.equal(rawCalls("// fetch('/api/x')\nconst label = 'fetch(it)'; /* XMLHttpRequest */ const prefetch = 1;"), []);
  assert.equal(untypedImports("import { api, request, type Channel } from '../api.ts';"), ['request']);
  assert.equal(untypedImports("import { query as q } from './api.ts';\nimport { request } from './http.ts';"), ['query']);
  assert.equal(untypedImports("import { api, ApiError } from '../api.ts';"), []);
  assert.ok(rawCalls(readFileSync(CLIENT, 'utf8')).includes('fetch('), 'api.ts itself sends with fetch (the checks would see it)');
  assert.ok(files.some((f) => f.startsWith(MEDIA)) && files.includes('web/src/pages/home.tsx'), 'the web sources are read');
});

t('no raw fetch, XMLHttpRequest, sendBeacon or EventSource in web/src outside api.ts (and the WHIP/WHEP exchanges)', () => {
  const offending: string[] = [];
  for (const f of files) {
    if (f === CLIENT) continue;
    const text = readFileSync(f, 'utf8');
    const calls = rawCalls(text);
    if (calls.length === 0) continue;
    // the SDP exchanges send to the WHIP/WHEP URLs they are given; an /api path there would be an API call
    if (f.startsWith(MEDIA) && !/['"`]\/api\b/.test(withoutComments(text))) continue;
    offending.push(`${f}: ${[...new Set(calls)].join(', ')}`);
  }
  assert.equal(offending, [], `requests sent by hand instead of through the typed client (web/src/api.ts):\n  ${offending.join('\n  ')}`);
});

t("no module outside api.ts imports its untyped request helpers", () => {
  const offending = files.filter((f) => f !== CLIENT).flatMap((f) => untypedImports(readFileSync(f, 'utf8')).map((name) => `${f}: ${name}`));
  assert.equal(offending, [], `untyped calls of the API:\n  ${offending.join('\n  ')}`);
});

t.run();
