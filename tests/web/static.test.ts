// @runtime-matrix
// The web app's files as the API serves them on either runtime (api/web.ts on the host adapter's files): the page
// for any app path, assets with their type, size and last change, HEAD without a body, and byte ranges by the same
// rules as recordings (shared/media-http.ts): one range → 206, past the end → 416, malformed or several → the whole.
import * as assert from 'uvu/assert';
import { apiSuite } from '../helpers/api.ts';

const t = apiSuite('web app files');

t('the page for app paths; 404 problems for API paths and missing assets', async ({ api }) => {
  for (const p of ['/', '/c/some-channel', '/sign-in']) {
    const r = await fetch(api.base + p);
    assert.is(r.status, 200, p);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await r.text(), /<!doctype html>/i);
  }
  for (const p of ['/assets/nope.js', '/api/nope']) {
    const r = await fetch(api.base + p);
    assert.is(r.status, 404, p);
    assert.match(r.headers.get('content-type') ?? '', /problem\+json/, p);
  }
});

t('an asset: its type, length and last change; HEAD the same without a body; ranges', async ({ api }) => {
  const url = api.base + '/assets/app.js';
  const whole = await fetch(url);
  const bytes = new Uint8Array(await whole.arrayBuffer());
  assert.is(whole.status, 200);
  assert.match(whole.headers.get('content-type') ?? '', /javascript/);
  assert.is(Number(whole.headers.get('content-length')), bytes.length);
  assert.ok(whole.headers.get('last-modified'));
  const head = await fetch(url, { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(Number(head.headers.get('content-length')), bytes.length);
  assert.is((await head.arrayBuffer()).byteLength, 0);

  const part = await fetch(url, { headers: { range: 'bytes=10-19' } });
  assert.is(part.status, 206);
  assert.is(part.headers.get('content-range'), `bytes 10-19/${bytes.length}`);
  assert.equal(new Uint8Array(await part.arrayBuffer()), bytes.subarray(10, 20));
  const tail = await fetch(url, { headers: { range: 'bytes=-5' } });
  assert.is(tail.status, 206);
  assert.equal(new Uint8Array(await tail.arrayBuffer()), bytes.subarray(bytes.length - 5));
  const past = await fetch(url, { headers: { range: `bytes=${bytes.length}-` } });
  assert.is(past.status, 416);
  assert.is(past.headers.get('content-range'), `bytes */${bytes.length}`);
  for (const range of ['bytes=0-1,5-6', 'items=0-3', 'bytes=9-2', 'bytes=abc']) {
    const r = await fetch(url, { headers: { range } });
    assert.is(r.status, 200, range);
    assert.is((await r.arrayBuffer()).byteLength, bytes.length, range);
  }
});

t.run();
