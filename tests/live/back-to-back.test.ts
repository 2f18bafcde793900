// @db-matrix
// One channel going live again the moment its last broadcast ended (a publisher that reconnects with a new session,
// OBS's "stop, start"): each broadcast gets its own ended-then-new live session row, and the bus tells listeners
// (the recorder, notifications) of the end before the next start, never the other way round.
import * as assert from 'uvu/assert';
import { asc, eq } from 'drizzle-orm';
import { channelSuite, channelWithKey, startTestApi } from '../helpers/api.ts';
import { withKey } from '../helpers/webrtc.ts';
import { whepOffer } from '../helpers/whep-offer.ts';
import pg from 'pg';
import { channel, liveSession } from '../../shared/db/index.ts';

/** A publisher's offer (Opus + VP8) that the SFU accepts without the client ever connecting. */
const whipOffer = () => whepOffer().replace(/a=recvonly/g, 'a=sendonly').replace(/a=mid:(\w+)/g, (_m, mid) => `a=mid:${mid}\r\na=ssrc:${1000 + Number(mid)} cname:x`);

const t = channelSuite('back-to-back broadcasts on one channel', { owner: 'Back To Back', slug: 'again', env: { WHIP_AUTH_FAILURES_PER_MINUTE: '1000' } });

t('a broadcast started right after DELETE ends the last one goes live, and the bus hears offline before live', async ({ api, key }) => {
  const events: string[] = [];
  const off = [
    api.deps.bus.subscribe('channel.live', (e) => e.slug === 'again' && events.push(`live ${e.sessionId}`)),
    api.deps.bus.subscribe('channel.offline', (e) => e.slug === 'again' && events.push(`offline ${e.sessionId}`)),
  ];
  const post = () => fetch(`${api.base}/whip/again`, { method: 'POST', headers: { ...withKey(key), 'content-type': 'application/sdp' }, body: whipOffer() });
  let res = await post();
  assert.is(res.status, 201, await res.clone().text());
  const rounds = 8;
  for (let i = 0; i < rounds; i++) {
    const location = res.headers.get('location')!;
    const deleted = await fetch(api.base + location, { method: 'DELETE', headers: withKey(key) });
    assert.is(deleted.status, 200);
    res = await post(); // at once: the ended session's row may still be being written
    assert.is(res.status, 201, `round ${i}: ${await res.clone().text()}`);
  }
  await fetch(api.base + res.headers.get('location')!, { method: 'DELETE', headers: withKey(key) });
  await new Promise((r) => setTimeout(r, 500));
  off.forEach((f) => f());

  const [ch] = await api.deps.database.db.select({ id: channel.id }).from(channel).where(eq(channel.slug, 'again'));
  const rows = await api.deps.database.db.select().from(liveSession).where(eq(liveSession.channelId, ch!.id)).orderBy(asc(liveSession.startedAt));
  assert.is(rows.length, rounds + 1, 'one live session per broadcast');
  assert.ok(rows.every((r) => r.endedAt), 'every one ended');
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i]!.startedAt >= rows[i - 1]!.endedAt!, `broadcast ${i} starts after ${i - 1} ended`);
  // live, offline, live, offline, …: each session's end is announced before the next one's start
  assert.is(events.length, 2 * (rounds + 1), events.join('\n'));
  events.forEach((e, i) => assert.ok(e.startsWith(i % 2 ? 'offline' : 'live'), `event ${i}: ${e}\n${events.join('\n')}`));
  for (let i = 0; i < events.length; i += 2) assert.is(events[i]!.split(' ')[1], events[i + 1]!.split(' ')[1]);
});

t('a new broadcast waits for the last one’s row to be ended, however slow the database is (PostgreSQL, row locked)', async () => {
  // the ended session's UPDATE is held behind a row lock from another connection: the next broadcast must not insert
  // its live row (the one-live-session index) or announce itself before that UPDATE and channel.offline are done
  const api = await startTestApi({ WHIP_AUTH_FAILURES_PER_MINUTE: '1000' }, { db: 'postgres' });
  const blocker = new pg.Client({ connectionString: api.databaseUrl });
  try {
    const owner = await api.client().signUp('Slow Database');
    const key = await channelWithKey(owner, 'slow');
    const events: string[] = [];
    api.deps.bus.subscribe('channel.live', () => events.push('live'));
    api.deps.bus.subscribe('channel.offline', () => events.push('offline'));
    const post = () => fetch(`${api.base}/whip/slow`, { method: 'POST', headers: { ...withKey(key), 'content-type': 'application/sdp' }, body: whipOffer() });
    const first = await post();
    assert.is(first.status, 201);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT id FROM live_session WHERE ended_at IS NULL FOR UPDATE');
    assert.is((await fetch(api.base + first.headers.get('location')!, { method: 'DELETE', headers: withKey(key) })).status, 200);
    const second = post();
    await new Promise((r) => setTimeout(r, 1500));
    await blocker.query('COMMIT');
    const res = await second;
    assert.is(res.status, 201, await res.clone().text());
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(events, ['live', 'offline', 'live']);
    await fetch(api.base + res.headers.get('location')!, { method: 'DELETE', headers: withKey(key) });
  } finally {
    await blocker.end().catch(() => undefined);
    await api.stop();
  }
});

t.run();
