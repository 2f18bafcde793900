// @runtime-matrix
// Channel emotes over HTTP: the owner adds (or replaces) one by code with the image as the raw body and deletes it;
// anyone lists them and fetches their images; strangers are refused (401/403), bad codes and images are 400, an image
// over EMOTE_MAX_BYTES is 413, and a channel has at most MAX_CHANNEL_EMOTES. Images are checked as avatars are.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EMOTE_MAX_BYTES, MAX_CHANNEL_EMOTES } from '../../shared/emotes.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { hugeDimensions, pngOfSize, validImages, type ImageType } from '../helpers/fuzz/avatar.ts';

type Ctx = { api: TestApi; owner: Client; other: Client; images: Record<ImageType, Buffer> };
const t = suite<Ctx>('channel emotes');

t.before(async (ctx) => {
  ctx.images = validImages();
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Emoter');
  ctx.other = await ctx.api.client().signUp('Stranger');
  assert.is((await ctx.owner.post('/api/channels', { slug: 'emotes', title: 'Emotes' })).status, 201);
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

const put = (c: Client, code: string, type: string, bytes: Buffer, slug = 'emotes') => c.put(`/api/channels/${slug}/emotes/${code}`, { body: new Uint8Array(bytes), headers: { 'content-type': type } });

t('the owner adds an emote; anyone lists it and gets its image, served only as that image', async ({ api, owner, images }) => {
  const added = await put(owner, 'owlWave', 'image/png', images['image/png']);
  assert.is(added.status, 201, added.text);
  assert.is(added.body.code, 'owlWave');
  const list = await api.client().get('/api/channels/emotes/emotes');
  assert.is(list.status, 200);
  assert.equal(list.body.emotes, [added.body]);
  assert.is(list.body.max, MAX_CHANNEL_EMOTES);
  const img = await fetch(api.base + added.body.url);
  assert.is(img.status, 200);
  assert.is(img.headers.get('content-type'), 'image/png');
  assert.is(img.headers.get('x-content-type-options'), 'nosniff');
  assert.ok(Buffer.from(await img.arrayBuffer()).equals(images['image/png']));
  // a replacement keeps the code and changes the address (caches see a new image)
  const again = await put(owner, 'owlWave', 'image/gif', images['image/gif']);
  assert.is(again.status, 201);
  assert.is.not(again.body.url, added.body.url);
  assert.is((await fetch(api.base + again.body.url)).headers.get('content-type'), 'image/gif');
});

t('PUT refuses strangers (401), other users (403), bad codes and images (400), a wrong type (415), a large image (413)', async ({ api, owner, other, images }) => {
  const png = images['image/png'];
  assert.is((await put(api.client(), 'anonEmote', 'image/png', png)).status, 401);
  assert.is((await put(other, 'notMine', 'image/png', png)).status, 403);
  for (const code of ['ab', '1abc', 'has-dash', 'x'.repeat(26)]) assert.is((await put(owner, code, 'image/png', png)).status, 400, code);
  assert.is((await put(owner, 'lying', 'image/png', images['image/jpeg'])).status, 400, 'the bytes are a JPEG');
  assert.is((await put(owner, 'huge', 'image/png', hugeDimensions('image/png', png))).status, 400, 'a canvas past EMOTE_MAX_SIDE');
  assert.is((await put(owner, 'empty', 'image/png', Buffer.alloc(0))).status, 400);
  assert.is((await put(owner, 'textual', 'text/plain', Buffer.from('hello'))).status, 415);
  const tooBig = await put(owner, 'heavy', 'image/png', pngOfSize(png, EMOTE_MAX_BYTES + 1));
  assert.is(tooBig.status, 413, tooBig.text);
  assert.is(tooBig.headers.get('content-type'), 'application/problem+json');
  assert.is((await put(owner, 'justRight', 'image/png', pngOfSize(png, EMOTE_MAX_BYTES))).status, 201, 'at the cap');
  const codes = (await api.client().get('/api/channels/emotes/emotes')).body.emotes.map((e: { code: string }) => e.code);
  for (const refused of ['anonEmote', 'notMine', 'lying', 'huge', 'heavy']) assert.not.ok(codes.includes(refused), refused);
});

t('DELETE is the owner’s: 401, 403, then 204 and the image is gone; 404 for an unknown one', async ({ api, owner, other, images }) => {
  assert.is((await put(owner, 'shortLived', 'image/webp', images['image/webp'])).status, 201);
  assert.is((await api.client().delete('/api/channels/emotes/emotes/shortLived')).status, 401);
  assert.is((await other.delete('/api/channels/emotes/emotes/shortLived')).status, 403);
  assert.is((await owner.delete('/api/channels/emotes/emotes/shortLived')).status, 204);
  assert.is((await api.client().get('/api/channels/emotes/emotes/shortLived')).status, 404);
  assert.is((await owner.delete('/api/channels/emotes/emotes/shortLived')).status, 404);
  assert.is((await api.client().get('/api/channels/nowhere/emotes')).status, 404);
});

t(`a channel has at most ${MAX_CHANNEL_EMOTES} emotes (409 past it); replacing one is not adding one`, async ({ api, owner, images }) => {
  assert.is((await owner.post('/api/channels', { slug: 'full-emotes', title: 'Full' })).status, 201);
  for (let i = 0; i < MAX_CHANNEL_EMOTES; i++) assert.is((await put(owner, `emote${i}`, 'image/png', images['image/png'], 'full-emotes')).status, 201);
  const over = await put(owner, 'oneMore', 'image/png', images['image/png'], 'full-emotes');
  assert.is(over.status, 409, over.text);
  assert.match(over.body.detail, String(MAX_CHANNEL_EMOTES));
  assert.is((await put(owner, 'emote0', 'image/gif', images['image/gif'], 'full-emotes')).status, 201, 'a replacement fits');
  assert.is((await api.client().get('/api/channels/full-emotes/emotes')).body.emotes.length, MAX_CHANNEL_EMOTES);
});

t.run();
