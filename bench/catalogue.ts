// A synthetic catalogue of channels and VoDs for the search benchmarks (bench/search.ts, bench/runtimes.ts), and the
// searches they send. Every value comes from a fixed pseudo-random sequence, so two seeds of the same range write the
// same rows — on PostgreSQL and on PGlite alike.
import { randomUUID } from 'node:crypto';

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)]!;
const ADJECTIVES = 'cozy late night chill epic retro speedy quiet loud lucky golden midnight sunny rainy tiny giant wild calm brave clever'.split(' ');
const NOUNS = 'stream radio runs kitchen garden arcade studio lounge workshop marathon podcast jam session tavern library cafe dungeon racing chess painting'.split(' ');
// ~2,000 made-up words give the index a realistic vocabulary beyond the words the queries use
const SYLLABLES = 'ka lo mi ra te su no vi da pe zo ri ma ku el an or is ten bel'.split(' ');
const FILLER = Array.from({ length: 2000 }, () => pick(SYLLABLES) + pick(SYLLABLES) + pick(SYLLABLES));
const CATEGORIES = 'Games,Music,Just Chatting,Art,Cooking,Science,Sports,Travel,Education,Technology,Fitness,Talk Shows,Retro,Strategy,Puzzle,Horror,Racing,Chess,Crafts,Outdoors'.split(',');
const TAGS = 'speedrun lofi chill english german coop pvp indie cozy horror music vinyl synth ambient drawing baking science coding fitness chess'.split(' ');
const sentence = (n: number) => Array.from({ length: n }, () => (rand() < 0.25 ? pick(NOUNS) : pick(FILLER))).join(' ');
const title = () => `${pick(ADJECTIVES)} ${pick(NOUNS)} ${pick(FILLER)}`.replace(/^./, (c) => c.toUpperCase());
const daysAgo = () => rand() * 365;

/** What the seed needs of a database client: pg's Client and PGlite both have it. */
export type Queryable = { query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }> };

/** The user who owns every seeded channel. */
export async function seedOwner(client: Queryable, id = 'bench') {
  await client.query(`insert into "user" (id, name, email) values ($1, 'Bench', $2)`, [id, `${id}@example.test`]);
}

/**
 * Adds `channels` channels (slugs ch-<from>…) and as many VoDs (spread over them) to the database, in batches, and
 * marks about 1 % of the channels live. The rows depend only on `from` and `channels`.
 */
export async function seedCatalogue(client: Queryable, ownerId: string, from: number, channels: number) {
  seed = 42 + from;
  const channelIds: string[] = [];
  for (let start = 0; start < channels; start += 5000) {
    const n = Math.min(5000, channels - start);
    const ids = Array.from({ length: n }, () => randomUUID());
    channelIds.push(...ids);
    await client.query(
      `insert into channel (id, owner_id, slug, title, description, category, tags, created_at)
       select id, $2, slug, title, description, category, string_to_array(tags, ','), now() - days * interval '1 day'
       from unnest($1::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[]) as t(id, slug, title, description, category, tags, days)`,
      [
        ids,
        ownerId,
        ids.map((_, i) => `ch-${from + start + i}`),
        ids.map(title),
        ids.map(() => sentence(12 + Math.floor(rand() * 12))),
        ids.map(() => pick(CATEGORIES)),
        ids.map(() => Array.from({ length: Math.floor(rand() * 4) }, () => pick(TAGS)).join(',')),
        ids.map(daysAgo),
      ],
    );
  }
  for (let start = 0; start < channels; start += 5000) {
    const n = Math.min(5000, channels - start);
    const ids = Array.from({ length: n }, () => randomUUID());
    await client.query(
      `insert into vod (id, channel_id, title, status, started_at, storage_prefix)
       select id, channel_id, title, 'ready', now() - days * interval '1 day', 'vods/' || id
       from unnest($1::uuid[], $2::uuid[], $3::text[], $4::float8[]) as t(id, channel_id, title, days)`,
      [ids, ids.map(() => pick(channelIds)), ids.map(title), ids.map(daysAgo)],
    );
  }
  // a few live channels, as broadcasts would leave them
  const live = channelIds.filter(() => rand() < 0.01);
  await client.query(`insert into live_session (id, channel_id, source) select gen_random_uuid(), id, 'whip' from unnest($1::uuid[]) as t(id)`, [live]);
}

/** The queries, cycled by every connection: words, two words, prefixes, typos, and filters. */
export const SEARCHES = [
  'q=cozy', 'q=radio', 'q=marathon', 'q=chess', 'q=cozy%20stream', 'q=late%20night%20radio', 'q=speedrun', 'q=lofi',
  'q=str', 'q=marat', 'q=kitch', 'q=midn',
  'q=strem', 'q=maraton', 'q=podcst', 'q=libary', 'q=kitchn%20cozy',
  'q=radio&type=vod', 'q=stream&live=true', 'q=chill&category=Music', 'q=arcade&from=2026-06-01', 'category=Games&type=channel',
].map((q) => `/api/search?${q}&limit=20`);
