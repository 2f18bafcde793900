// Checks several API suites make the same way.
import * as assert from 'uvu/assert';
import type { Reply } from './api.ts';

/** The reply is RFC 9457 problem+json with this status (and a detail matching `detail`, when given). */
export function isProblem(r: Reply, status: number, detail?: RegExp) {
  assert.is(r.status, status, `expected ${status}, got ${r.status}: ${r.text.slice(0, 300)}`);
  assert.is(r.headers.get('content-type'), 'application/problem+json');
  assert.is(r.body.status, status);
  assert.type(r.body.title, 'string');
  if (detail) assert.match(r.body.detail, detail);
}

/** Polls `get` every 50 ms until `ok`; throws naming `what` (and the last value) after `timeoutMs`. */
export async function eventually<T>(get: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  for (const started = Date.now(); ; await new Promise((r) => setTimeout(r, 50))) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms (last: ${JSON.stringify(v)})`);
  }
}
