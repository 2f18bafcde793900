// Fuzz: avatar uploads. Real images cut short, claiming huge canvases, made polyglot, under the wrong type, empty,
// at and over MAX_UPLOAD_BYTES, then random truncations and byte flips for GLINT_FUZZ_SECONDS (default 4 s).
// A bad upload is a 4xx and the previous avatar is still served byte for byte, as its image type, with nosniff.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { capturingLogger, distinctErrors, fuzzSeconds, fuzzSeed, Rng, watchProcess } from '../helpers/fuzz/common.ts';
import { checkUpload, fuzzAvatars, upload, validImages, type ImageType, type Served } from '../helpers/fuzz/avatar.ts';

type Ctx = { api: TestApi; owner: Client; stranger: Client; images: Record<ImageType, Buffer>; capture: ReturnType<typeof capturingLogger>; watch: ReturnType<typeof watchProcess> };
const t = suite<Ctx>('fuzz: avatar uploads');
const SECONDS = fuzzSeconds(4);
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

t('bad avatars are refused with a 4xx and the previous one is still served unchanged, as its type, with nosniff', async ({ api, owner, stranger, images, capture, watch }) => {
  const seed = fuzzSeed();
  const rng = new Rng(seed);
  const first = await upload(api, SLUG, owner, { type: 'image/png', bytes: images['image/png'] });
  assert.is(first.status, 200, first.text);
  const served: Served = { type: 'image/png', bytes: images['image/png'] };
  const problems: string[] = [];
  // strangers and visitors may not change it at all, even with a perfect image
  for (const [as, name] of [[stranger, 'a stranger'], [undefined, 'a visitor']] as const) {
    problems.push(...(await checkUpload(api, SLUG, as, { type: 'image/jpeg', bytes: images['image/jpeg'], what: `a valid JPEG from ${name}`, expect: 'refused' }, served, seed)).problems);
  }
  const r = await fuzzAvatars(api, SLUG, owner, images, served, rng, SECONDS);
  problems.push(...r.problems);
  console.log(`avatar: ${r.cases + 2} uploads, seed ${seed} (GLINT_FUZZ_SEED=${seed} reproduces); ${problems.length} problems`);
  if (problems.length) console.log(`problems:\n  ${problems.join('\n  ')}`);
  const errors = distinctErrors(capture.errors());
  if (errors.length) console.log(`error-level log lines:\n${errors.join('\n')}`);
  assert.equal(problems.slice(0, 30), [], `${problems.length} problems (first 30; seed ${seed})`);
  assert.equal(errors, [], 'error-level log lines');
  if (watch.problems.length) console.log(`process problems:\n${watch.problems.slice(0, 5).join('\n')}`);
  assert.equal(watch.problems, [], 'no unhandled rejection or uncaught exception');
});

t.run();
