// A subscriber-only channel renamed while it is live stays subscriber-only on every path a viewer could use: WHEP
// (under its new name; the old one reaches no room), the live recording's playlist and segments, the live card's
// preview frame. FFmpeg publishes over RTMP (as OBS would) so the room, the live session, the recording and its
// preview are the real ones; the viewer's requests are anonymous HTTP, refused before any SDP is read.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { and, eq } from 'drizzle-orm';
import { liveSession, vod } from '../../shared/db/index.ts';
import { channelWithKey, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { startProcess, type Child } from '../helpers/process.ts';
import { until } from '../helpers/webrtc.ts';

type Ctx = { api: TestApi; owner: Client; publisher?: Child };
const t = suite<Ctx>('renaming a live subscriber-only channel');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Renamer');
});
t.after(async (ctx) => {
  await ctx.publisher?.stop();
  await ctx.api?.stop();
});

// a real offer is not needed: admission is decided before the body is read
const whep = (c: Client, slug: string) => c.req('POST', `/whep/${slug}`, { body: 'v=0\r\n', headers: { 'content-type': 'application/sdp' }, check: false });

t('after a rename, an anonymous viewer is still refused on WHEP (old and new name), the live playlist, its segments and the preview', async (ctx) => {
  const { api, owner } = ctx;
  const key = await channelWithKey(owner, 'members-only', 'Members only');
  assert.is((await owner.patch('/api/channels/members-only', { subscribersOnlyLive: true })).status, 200);
  const channelId = (await owner.get('/api/channels/members-only')).body.id as string;
  ctx.publisher = startProcess('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '15',
    '-c:a', 'aac', '-b:a', '64k',
    '-f', 'flv', `rtmp://127.0.0.1:${api.sfu.rtmp!.port}/live/${key}`,
  ]);
  const { db } = api.deps.database;
  const session = await until(async () => (await db.select().from(liveSession).where(eq(liveSession.channelId, channelId)))[0], (s) => !!s, 15_000);
  assert.ok(session, `the broadcast went live\n${ctx.publisher.output()}`);
  const recording = await until(async () => (await db.select().from(vod).where(and(eq(vod.channelId, channelId), eq(vod.status, 'recording'))))[0], (v) => !!v, 10_000);
  assert.ok(recording, 'the broadcast is being recorded');
  const playlist = `/hls/vod/${recording!.id}/index.m3u8`;
  const segment = `/hls/vod/${recording!.id}/seg-00000.ts`;
  const preview = `/hls/live/${session!.id}/preview.jpg`;
  // wait until the recording has a segment and the card its frame, so a refusal below is not just "not there yet"
  assert.is((await until(() => owner.get(segment, { check: false }), (r) => r.status === 200, 15_000)).status, 200, 'the owner gets the first segment');
  assert.is((await until(() => owner.get(preview, { check: false }), (r) => r.status === 200, 15_000)).status, 200, 'the owner gets the preview');

  const anon = api.client();
  assert.is((await whep(anon, 'members-only')).status, 401, 'refused before the rename');
  const renamed = await owner.patch('/api/channels/members-only', { slug: 'members-renamed' });
  assert.is(renamed.status, 200, renamed.text);

  const refused = [401, 403];
  // the live room is the channel's: it moves to the new name (still refusing strangers); the old name is no channel
  assert.ok(api.sfu.room('members-renamed'), 'the new name reaches the live room');
  assert.ok(refused.includes((await whep(anon, 'members-renamed')).status), 'the new name: refused');
  // no room, so no admission to decide: the dummy offer is refused as such (400) or the channel unknown (404)
  assert.is(api.sfu.room('members-only'), undefined, 'the old name reaches no room');
  assert.ok([400, 404].includes((await whep(anon, 'members-only')).status));
  for (const path of [playlist, segment, preview]) {
    const r = await anon.get(path, { check: false });
    assert.ok(refused.includes(r.status), `${path}: ${r.status}`);
  }
  // and a public channel that takes the old name does not open the old room
  const other = await api.client().signUp('Squatter');
  assert.is((await other.post('/api/channels', { slug: 'members-only', title: 'Not the same channel' })).status, 201);
  assert.is(api.sfu.room('members-only'), undefined, 'a new public channel under the old name does not reach the old room');
  assert.ok([400, 404].includes((await whep(anon, 'members-only')).status));
  // the owner is still admitted under the channel's name now: past admission, to the offer's check (400)
  assert.is((await whep(owner, 'members-renamed')).status, 400);
});

t.run();
