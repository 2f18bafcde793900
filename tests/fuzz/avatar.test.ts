// Fuzz: avatar uploads. Real images cut short, claiming huge canvases, made polyglot, under the wrong type, empty,
// at and over MAX_UPLOAD_BYTES, then random truncations and byte flips for GLINT_FUZZ_SECONDS (default 5 s).
// A bad upload is a 4xx and the previous avatar is still served byte for byte, as its image type, with nosniff.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { cookieHeader } from '../helpers/chat.ts';
import { capturingLogger, distinctErrors, fuzzSeconds, fuzzSeed, preview, Rng, watchProcess } from '../helpers/fuzz/common.ts';
import { avatarCases, mutatedImage, validImages, type AvatarCase, type ImageType } from '../helpers/fuzz/avatar.ts';

type Ctx = { api: TestApi; owner: Client; stranger: Client; images: Record<ImageType, Buffer>; capture: ReturnType<typeof capturingLogger>; watch: ReturnType<typeof watchProcess> };
const t = suite<Ctx>('fuzz: avatar uploads');
const SECONDS = fuzzSeconds(5);
const SLUG = 'fz-avatar';

t.before(async (ctx) => {
  ctx.watch = watchProcess();
  ctx.capture = capturingLogger('warn');
  ctx.api = await startTestApi({}, { log: ctx.capture.log });
  await ctx.api.client().signUp('Avatar Admin');
  ctx.owner = await ctx.api.client().signUp('Avatar Owner');
  ctx.stranger = await ctx.api.client().signUp('Avatar Stranger');
  assert.is((await ctx.owner.post('/api/channels', { slug: SLUG, title: 'Faces' })).status, 201);
  ctx.images = validImages();
});
t.after(async (ctx) => {
  await ctx.api?.stop();
  ctx.watch?.stop();
});

type Served = { type: string; bytes: Buffer };

const upload = async (api: TestApi, as: Client | undefined, c: { type: string | undefined; bytes: Buffer }) => {
  const headers: Record<string, string> = { origin: api.base };
  if (c.type !== undefined) headers['content-type'] = c.type;
  if (as) headers.cookie = cookieHeader(as);
  const res = await fetch(`${api.base}/api/channels/${SLUG}/avatar`, { method: 'PUT', headers, body: new Uint8Array(c.bytes) });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
};

/** Checks one upload's reply against what the case expects, then that the served avatar is `expected` (or the new one). */
async function check(api: TestApi, as: Client | undefined, c: AvatarCase, expected: Served, seed: number): Promise<{ served: Served; problems: string[] }> {
  const problems: string[] = [];
  const r = await upload(api, as, c);
  const where = `[seed ${seed}] PUT avatar ${c.what} (${c.bytes.length} bytes, content-type ${JSON.stringify(c.type)}) → ${r.status} ${r.text.slice(0, 200)}`;
  if (r.status >= 500) problems.push(`5xx: ${where}`);
  if (r.status >= 400 && !(r.type ?? '').startsWith('application/problem+json')) problems.push(`a refusal that is not problem+json: ${where}`);
  const refused = r.status >= 400 && r.status < 500;
  if (c.expect === 'refused' && !refused) problems.push(`should be refused with a 4xx: ${where}`);
  if (c.expect === 'accepted' && r.status !== 200) problems.push(`should be accepted: ${where}`);
  if (c.expect === 'too-large' && r.status !== 413) problems.push(`should be 413: ${where}`);
  if (c.expect === 'not-too-large' && r.status === 413) problems.push(`within the limit, so not 413: ${where}`);
  const served: Served = r.status === 200 ? { type: c.type!.split(';')[0]!.trim().toLowerCase(), bytes: c.bytes } : expected;
  const got = await fetch(`${api.base}/api/channels/${SLUG}/avatar`);
  const bytes = Buffer.from(await got.arrayBuffer());
  if (got.status !== 200) problems.push(`the avatar is no longer served (${got.status}) after: ${where}`);
  else {
    if (got.headers.get('content-type') !== served.type) problems.push(`served as ${got.headers.get('content-type')}, not ${served.type}, after: ${where}`);
    if (got.headers.get('x-content-type-options') !== 'nosniff') problems.push(`served without nosniff after: ${where}`);
    if (!bytes.equals(served.bytes)) problems.push(`the served avatar changed (${bytes.length} bytes, expected ${served.bytes.length}) after: ${where}`);
  }
  return { served, problems };
}

t('bad avatars are refused with a 4xx and the previous one is still served unchanged, as its type, with nosniff', async ({ api, owner, stranger, images, capture, watch }) => {
  const seed = fuzzSeed();
  const rng = new Rng(seed);
  const first = await upload(api, owner, { type: 'image/png', bytes: images['image/png'] });
  assert.is(first.status, 200, first.text);
  let served: Served = { type: 'image/png', bytes: images['image/png'] };
  const problems: string[] = [];
  let cases = 0;
  // strangers and visitors may not change it at all, even with a perfect image
  for (const [as, name] of [[stranger, 'a stranger'], [undefined, 'a visitor']] as const) {
    const r = await check(api, as, { type: 'image/jpeg', bytes: images['image/jpeg'], what: `a valid JPEG from ${name}`, expect: 'refused' }, served, seed);
    problems.push(...r.problems);
    cases++;
  }
  for (const c of rng.shuffle(avatarCases(images, api.config.maxUploadBytes))) {
    const r = await check(api, owner, c, served, seed);
    served = r.served;
    problems.push(...r.problems);
    cases++;
  }
  const deadline = Date.now() + SECONDS * 1000;
  while (Date.now() < deadline) {
    const r = await check(api, owner, mutatedImage(rng, images), served, seed);
    served = r.served;
    problems.push(...r.problems);
    cases++;
  }
  console.log(`avatar: ${cases} uploads, seed ${seed}; ${problems.length} problems`);
  const errors = distinctErrors(capture.errors());
  if (problems.length) console.log(`problems:\n  ${problems.join("\n  ")}`);
  assert.equal(problems.slice(0, 30), [], `${problems.length} problems (first 30; seed ${seed}, last served ${preview(served.type)})`);
  assert.equal(errors, [], 'error-level log lines');
  assert.equal(watch.problems, [], 'no unhandled rejection or uncaught exception');
});

t.run();
