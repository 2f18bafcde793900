// @runtime-matrix
// The resume position of a signed-in viewer (GET/PUT /api/vods/{id}/position; i17-webvod's minimal version of the
// catalog branch's routes): remembered per viewer and VoD, overwritten by the next PUT, for signed-in viewers only,
// bounded, and gone with the VoD.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { watchPosition } from '../../shared/db/index.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { placeholderFiles, seedVod } from '../helpers/vod-seed.ts';

type Ctx = { api: TestApi; owner: Client; viewer: Client; vodId: string };
const t = suite<Ctx>('VoD watch positions');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Position Owner');
  ctx.viewer = await ctx.api.client().signUp('Position Viewer');
  ctx.vodId = await seedVod(ctx.api, ctx.owner, 'positions', { files: placeholderFiles({ ended: true }) });
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

t('PUT then GET /api/vods/{id}/position round-trips, per viewer, the latest PUT winning', async ({ owner, viewer, vodId }) => {
  const none = await viewer.get(`/api/vods/${vodId}/position`);
  assert.is(none.status, 200);
  assert.is(none.text, 'null', 'never started: null');
  assert.is((await viewer.put(`/api/vods/${vodId}/position`, { json: { positionSeconds: 42.5 } })).status, 204);
  assert.is((await viewer.put(`/api/vods/${vodId}/position`, { json: { positionSeconds: 61 } })).status, 204);
  const got = await viewer.get(`/api/vods/${vodId}/position`);
  assert.is(got.status, 200);
  assert.is(got.body.positionSeconds, 61);
  assert.is(got.headers.get('cache-control'), 'private, no-store');
  assert.is((await owner.get(`/api/vods/${vodId}/position`)).text, 'null', "another viewer's position is their own");
});

t('signed out: 401; a bad position: 400; an unknown VoD: 404', async ({ api, viewer, vodId }) => {
  assert.is((await api.client().get(`/api/vods/${vodId}/position`)).status, 401);
  assert.is((await api.client().put(`/api/vods/${vodId}/position`, { json: { positionSeconds: 1 } })).status, 401);
  for (const body of [{ positionSeconds: -1 }, { positionSeconds: 'x' }, { positionSeconds: 1e12 }, {}, { positionSeconds: 1, extra: true }]) {
    assert.is((await viewer.put(`/api/vods/${vodId}/position`, { json: body })).status, 400, JSON.stringify(body));
  }
  assert.is((await viewer.put(`/api/vods/${crypto.randomUUID()}/position`, { json: { positionSeconds: 1 } })).status, 404);
});

t('deleting the VoD removes its positions', async ({ api, owner, viewer }) => {
  const id = await seedVod(api, owner, 'positions', { files: placeholderFiles({ ended: true }) });
  assert.is((await viewer.put(`/api/vods/${id}/position`, { json: { positionSeconds: 3 } })).status, 204);
  assert.is((await owner.delete(`/api/vods/${id}`)).status, 204);
  assert.is((await viewer.get(`/api/vods/${id}/position`)).status, 404);
  assert.is((await api.deps.database.db.select().from(watchPosition).where(eq(watchPosition.vodId, id))).length, 0, 'the row went with the VoD (cascade)');
});

t.run();
