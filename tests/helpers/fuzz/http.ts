// HTTP API fuzzer, generated from the API's own OpenAPI document: for every operation, hostile path parameters,
// query strings and JSON bodies (wrong types, sizes near and above MAX_BODY_BYTES, 10k-deep nesting, unicode,
// missing and extra fields, __proto__ keys, extreme numbers, impossible dates), sent as an anonymous visitor, a
// signed-in stranger and the owner of seeded data. Every reply must be below 500 and every 4xx problem+json; the
// owner's stored rows must not change through a refused request or through anyone else's.
import { eq, sql, type SQL } from 'drizzle-orm';
import type { AnyPgTable } from 'drizzle-orm/pg-core';
import { randomUUID } from 'node:crypto';
import { channel, chatMessage, chatSettings, follow, notification, streamKey, subscription, subscriptionTier, user, vod, webhook } from '../../../shared/db/index.ts';
import { channelWithKey, type Client, type TestApi } from '../api.ts';
import { cookieHeader } from '../chat.ts';
import { deepJsonText, hostileString, hostileValue, HOSTILE_NUMBERS, preview, Rng } from './common.ts';

type Schema = { $ref?: string; type?: string | string[]; properties?: Record<string, Schema>; required?: string[]; items?: Schema; enum?: unknown[]; format?: string; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[]; default?: unknown; minimum?: number; maximum?: number; minLength?: number; maxLength?: number };
type Param = { name: string; in: 'path' | 'query' | 'header' | 'cookie'; schema?: Schema };
type Operation = { method: string; template: string; params: Param[]; body?: { types: string[]; schema?: Schema } };
type Doc = { paths: Record<string, Record<string, { parameters?: Param[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>>; components?: { schemas?: Record<string, Schema> } };

export type Role = 'anonymous' | 'stranger' | 'owner';

/** The seeded world: three accounts (an admin first, who is not fuzzed), the owner's channel and what hangs off it. */
export type World = {
  admin: Client;
  owner: Client;
  stranger: Client;
  ownerSlug: string;
  strangerSlug: string;
  /** Real ids a path parameter may take, by parameter name: the owner's resources and the stranger's. */
  ids: Record<string, string[]>;
  /** The stranger's own ids: a stranger's destructive requests never use these (deleting its own channel is its right). */
  strangerIds: string[];
};

export async function seedWorld(api: TestApi, prefix = 'fz'): Promise<World> {
  const admin = await api.client().signUp('Fuzz Admin'); // the first account becomes admin: keep it out of the way
  const owner = await api.client().signUp('Fuzz Owner');
  const stranger = await api.client().signUp('Fuzz Stranger');
  const ownerSlug = `${prefix}-own`;
  const strangerSlug = `${prefix}-other`;
  await channelWithKey(owner, ownerSlug, 'Owned by the owner');
  await channelWithKey(stranger, strangerSlug, 'Owned by the stranger');
  const must = async (r: Promise<{ status: number; text: string; body: any }>, what: string) => {
    const res = await r;
    if (res.status >= 300) throw new Error(`seeding ${what}: ${res.status} ${res.text}`);
    return res.body;
  };
  const hook = await must(owner.post(`/api/channels/${ownerSlug}/webhooks`, { url: 'https://hooks.example.test/glint' }), 'a webhook');
  const tier = await must(owner.post(`/api/channels/${ownerSlug}/tiers`, { name: 'Gold', priceCents: 499 }), 'a tier');
  const sub = await must(owner.post(`/api/channels/${ownerSlug}/subscriptions`, { userId: stranger.user!.id, tierId: tier.id }), 'a subscription');
  await must(stranger.put(`/api/channels/${ownerSlug}/follow`), 'a follow');
  await must(owner.put(`/api/channels/${strangerSlug}/follow`), "the owner's follow");
  const { db } = api.deps.database;
  const [ch] = await db.select({ id: channel.id }).from(channel).where(eq(channel.slug, ownerSlug));
  const vodId = randomUUID();
  await db.insert(vod).values({ id: vodId, channelId: ch!.id, title: 'A past broadcast', status: 'ready', storagePrefix: `vods/${vodId}`, endedAt: new Date(), durationMs: 60_000 });
  const [note] = await db.insert(notification).values({ userId: owner.user!.id, kind: 'channel.live', channelId: ch!.id, data: { slug: strangerSlug, title: strangerSlug } }).returning({ id: notification.id });
  await db.insert(chatMessage).values({ id: randomUUID(), channelId: ch!.id, userId: owner.user!.id, body: 'hello from the owner' });
  const keys = await must(owner.get(`/api/channels/${ownerSlug}/stream-keys`), 'stream keys');
  return {
    admin,
    owner,
    stranger,
    ownerSlug,
    strangerSlug,
    ids: {
      slug: [ownerSlug, strangerSlug],
      id: [keys[0].id, hook.id, tier.id, sub.id, vodId, note!.id, owner.user!.id, stranger.user!.id],
    },
    strangerIds: [strangerSlug, stranger.user!.id, sub.id], // the subscriber may cancel its own subscription
  };
}

/**
 * Everything stored that belongs to the owner, as one JSON text to compare before and after (one query: it runs
 * after every request that may write). The follower count and the VoDs' view counts are left out: following and
 * watching are the followers' and viewers' doing (a stranger's view counts, once per viewer per few hours).
 */
export async function ownerRows(api: TestApi, world: World): Promise<string> {
  const ownerId = world.owner.user!.id;
  const mine = sql`(select id from ${channel} where owner_id = ${ownerId})`;
  const all = (table: AnyPgTable, where: SQL, order: string) => sql`(select coalesce(jsonb_agg(to_jsonb(t) order by t.${sql.raw(order)}), '[]') from ${table} t where ${where})`;
  const q = sql`select jsonb_build_object(
    'user', ${all(user, sql`t.id = ${ownerId}`, 'id')},
    'channels', (select coalesce(jsonb_agg(to_jsonb(t) - 'follower_count' order by t.id), '[]') from ${channel} t where t.owner_id = ${ownerId}),
    'streamKeys', ${all(streamKey, sql`t.channel_id in ${mine}`, 'id')},
    'webhooks', ${all(webhook, sql`t.channel_id in ${mine}`, 'id')},
    'tiers', ${all(subscriptionTier, sql`t.channel_id in ${mine}`, 'id')},
    'subscriptions', ${all(subscription, sql`t.channel_id in ${mine}`, 'id')},
    'vods', (select coalesce(jsonb_agg(to_jsonb(t) - 'view_count' order by t.id), '[]') from ${vod} t where t.channel_id in ${mine}),
    'chatSettings', ${all(chatSettings, sql`t.channel_id in ${mine}`, 'channel_id')},
    'chat', ${all(chatMessage, sql`t.channel_id in ${mine}`, 'id')},
    'follows', ${all(follow, sql`t.user_id = ${ownerId}`, 'channel_id')},
    'notifications', ${all(notification, sql`t.user_id = ${ownerId}`, 'id')}
  )::text as rows`;
  const res = (await api.deps.database.db.execute(q)) as unknown as { rows: { rows: string }[] };
  return res.rows[0]!.rows;
}

/** Every operation of the document, with its parameters and request body schema ($refs resolved). */
export function operations(doc: Doc): Operation[] {
  const resolve = (s: Schema | undefined, depth = 0): Schema | undefined => {
    if (!s || depth > 20) return s;
    if (s.$ref) return resolve(doc.components?.schemas?.[s.$ref.split('/').pop()!], depth + 1);
    const out: Schema = { ...s };
    if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, resolve(v, depth + 1)!]));
    if (s.items) out.items = resolve(s.items, depth + 1);
    for (const k of ['anyOf', 'oneOf', 'allOf'] as const) if (s[k]) out[k] = s[k]!.map((x) => resolve(x, depth + 1)!);
    return out;
  };
  const ops: Operation[] = [];
  for (const [template, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content;
      ops.push({
        method: method.toUpperCase(),
        template,
        params: (op.parameters ?? []).map((p) => ({ ...p, schema: resolve(p.schema) })),
        ...(content ? { body: { types: Object.keys(content), schema: resolve(Object.values(content)[0]?.schema) } } : {}),
      });
    }
  }
  return ops;
}

/** A plausible value for a schema: what a well-behaved client would send, the starting point for mutations. */
function plausible(rng: Rng, s: Schema | undefined, depth = 0): unknown {
  if (!s || depth > 6) return 'x';
  if (s.enum?.length) return rng.pick(s.enum);
  const alt = s.anyOf ?? s.oneOf;
  if (alt?.length) return plausible(rng, rng.pick(alt.filter((a) => a.type !== 'null').length ? alt.filter((a) => a.type !== 'null') : alt), depth + 1);
  if (s.allOf?.length) return plausible(rng, s.allOf[0], depth + 1);
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') ?? 'null') : s.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) if (s.required?.includes(k) || rng.chance(0.6)) out[k] = plausible(rng, v, depth + 1);
      return out;
    }
    case 'array':
      return Array.from({ length: 1 + rng.int(2) }, () => plausible(rng, s.items, depth + 1));
    case 'integer':
    case 'number':
      return Math.max(s.minimum ?? 0, Math.min(s.maximum ?? 100, 1 + rng.int(10)));
    case 'boolean':
      return rng.chance(0.5);
    case 'null':
      return null;
    default:
      if (s.format === 'uuid') return randomUUID();
      if (s.format === 'uri' || s.format === 'url') return 'https://hooks.example.test/x';
      if (s.format === 'email') return `fuzz-${rng.int(1e9)}@example.test`;
      if (s.format === 'date-time') return new Date(Date.now() + rng.int(1e9)).toISOString();
      return `fuzz-${rng.int(1e6).toString(36)}`;
  }
}

/** One hostile request body: its bytes and the content type it claims. */
export function hostileBody(rng: Rng, schema: Schema | undefined, maxBodyBytes: number): { text: string; type: string | undefined; what: string } {
  const json = (v: unknown, what: string) => ({ text: JSON.stringify(v) ?? 'null', type: 'application/json', what });
  const base = plausible(rng, schema) as Record<string, unknown>;
  const props = Object.keys(schema?.properties ?? {});
  const r = rng.int(16);
  switch (r) {
    case 0: // one field of a wrong type or value
    case 1:
    case 2: {
      const k = props.length ? rng.pick(props) : 'x';
      return json({ ...base, [k]: hostileValue(rng) }, `field ${k} hostile`);
    }
    case 3: // every field hostile
      return json(Object.fromEntries(props.map((k) => [k, hostileValue(rng)])), 'every field hostile');
    case 4: {
      // a required field missing
      const copy = { ...base };
      const req = schema?.required?.length ? rng.pick(schema.required) : props[0];
      if (req) delete copy[req];
      return json(copy, `without ${req}`);
    }
    case 5: // extra fields, prototype keys
      return {
        text: JSON.stringify(base).replace(/^\{/, '{"__proto__":{"role":"admin","isAdmin":true},"constructor":{"prototype":{"x":1}},"role":"admin","ownerId":"someone-else","id":"00000000-0000-0000-0000-000000000000",').replace(/,}$/, '}'),
        type: 'application/json',
        what: 'prototype and extra keys',
      };
    case 6: // not an object at all
      return json(rng.pick<unknown>([[base], [], 'a string', 42, null, true, 1e308, [[[]]]]), 'not an object');
    case 7: {
      // 10k levels of nesting, in a field or as the whole body
      const deep = deepJsonText(10_000, rng.chance(0.5) ? 'array' : 'object');
      const k = props.length ? rng.pick(props) : 'x';
      return { text: rng.chance(0.5) ? deep : JSON.stringify({ ...base, [k]: 0 }).replace(/0([,}])/, `${deep}$1`), type: 'application/json', what: `10k-deep nesting` };
    }
    case 8: {
      // a string field sized near and above the body cap
      const k = props.length ? rng.pick(props) : 'x';
      const target = rng.pick([maxBodyBytes - 200, maxBodyBytes - 20, maxBodyBytes, maxBodyBytes + 1, maxBodyBytes * 4]);
      const skeleton = JSON.stringify({ ...base, [k]: '' });
      return { text: skeleton.replace(`"${k}":""`, `"${k}":"${'a'.repeat(Math.max(0, target - skeleton.length))}"`), type: 'application/json', what: `${k} sized to ~${target} bytes` };
    }
    case 9: // numbers at the edges
      return json(Object.fromEntries(props.map((k) => [k, rng.pick(HOSTILE_NUMBERS)])), 'edge numbers');
    case 10: // broken JSON
      return {
        text: rng.pick([JSON.stringify(base).slice(0, -1), JSON.stringify(base) + 'garbage', '\ufeff' + JSON.stringify(base), '{"a":1,"a":2,', '{', '', 'nul', '{"x":"\\ud800"}', '{"x":"\\u0000"}', '[1,2,3,]', '{"a":NaN}', '1e999999']),
        type: 'application/json',
        what: 'broken JSON',
      };
    case 11: // wrong or missing content type
      return { text: JSON.stringify(base), type: rng.pick([undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-7', 'APPLICATION/JSON', 'application/jsonx', 'image/png']), what: 'content type' };
    case 12: // unicode everywhere a string goes
      return json(Object.fromEntries(props.map((k) => [k, hostileString(rng, 512)])), 'hostile strings in every field');
    case 13: // arrays where objects are expected and objects where arrays are
      return json(Object.fromEntries(props.map((k) => [k, rng.chance(0.5) ? [plausible(rng, schema?.properties?.[k])] : { value: plausible(rng, schema?.properties?.[k]) }])), 'arrays and objects swapped');
    default: // a plausible body: reaches the handler past validation
      return json(base, 'plausible');
  }
}

/** encodeURIComponent that also takes lone surrogates: written as their WTF-8 bytes (invalid UTF-8 on the wire). */
export function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.replace(/[\s\S]/gu, (ch) => {
      const cp = ch.codePointAt(0)!;
      if (cp < 0xd800 || cp > 0xdfff) return encodeURIComponent(ch);
      return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    });
  }
}

/** A path parameter: a real id (of the owner or not), or a hostile string (encoded or raw). */
function pathValue(rng: Rng, name: string, world: World): string {
  const real = world.ids[name] ?? world.ids.id!;
  if (rng.chance(0.4)) return enc(rng.pick(real));
  const s = hostileString(rng, 2048);
  return rng.chance(0.8) ? enc(s) : s.replace(/[/?#]/g, '_');
}

/** A query string over the documented parameters, with repeats, arrays, extras and hostile values. */
function queryString(rng: Rng, params: Param[]): string {
  const parts: string[] = [];
  for (const p of params.filter((x) => x.in === 'query')) {
    if (rng.chance(0.4)) continue;
    const v = rng.chance(0.3) ? String(plausible(rng, p.schema)) : rng.chance(0.5) ? String(rng.pick(HOSTILE_NUMBERS)) : hostileString(rng, 4096);
    const name = rng.chance(0.1) ? `${p.name}[]` : rng.chance(0.05) ? `${p.name}[a][b]` : p.name;
    parts.push(`${enc(name)}=${enc(v)}`);
    if (rng.chance(0.15)) parts.push(`${enc(p.name)}=${enc(hostileString(rng, 64))}`);
  }
  if (rng.chance(0.15)) parts.push('__proto__[x]=1', 'constructor[prototype][y]=1');
  if (rng.chance(0.05)) parts.push(`%E0%A4%A=1`, `%zz=%`);
  return parts.length ? `?${parts.join('&')}` : '';
}

export type HttpCase = { role: Role; method: string; url: string; headers: Record<string, string>; body?: string; what: string };
export type HttpOutcome = { status: number; type: string | null; text: string; retryAfter: string | null };

/** Requests no fuzzing role may send with real ids: they would end the seeded world (a 2xx for the owner). */
const destructive = (op: Operation) => op.method === 'DELETE' || op.template.endsWith('/rotate') || op.template === '/api/auth/sign-out';

/** Builds one hostile request for an operation as a role. */
export function buildCase(rng: Rng, op: Operation, role: Role, world: World, base: string, maxBodyBytes: number): HttpCase {
  // a signed-in role's destructive request never names its own resources (that would be a legitimate 2xx)
  const own = !destructive(op) || role === 'anonymous' ? [] : role === 'stranger' ? world.strangerIds : Object.values(world.ids).flat().filter((id) => !world.strangerIds.includes(id));
  let pathname = op.template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    let v = pathValue(rng, name, world);
    while (own.some((id) => enc(id) === v)) v = enc(hostileString(rng, 256));
    return v;
  });
  if (rng.chance(0.03)) pathname += rng.pick(['/', '//', '/..', '%2F..', '/%00']);
  const url = base + pathname + queryString(rng, op.params);
  const headers: Record<string, string> = { origin: base };
  const cookie = role === 'owner' ? cookieHeader(world.owner) : role === 'stranger' ? cookieHeader(world.stranger) : '';
  if (cookie) headers.cookie = cookie;
  let body: string | undefined;
  let what = 'no body';
  if (op.body || (op.method !== 'GET' && rng.chance(0.2))) {
    const b = hostileBody(rng, op.body?.schema, maxBodyBytes);
    body = b.text;
    what = b.what;
    if (b.type) headers['content-type'] = b.type;
  }
  return { role, method: op.method, url, headers, body, what };
}

export async function send(c: HttpCase): Promise<HttpOutcome | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(c.url, { method: c.method, headers: c.headers, body: c.body, redirect: 'manual' });
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text(), retryAfter: res.headers.get('retry-after') };
    } catch (err) {
      // undici refuses to send some hostile URLs and headers itself: not the server's doing
      if (err instanceof TypeError && !/fetch failed|terminated/.test(err.message)) return undefined;
      // a kept-alive connection the server had just closed is retried once; twice without an answer is the server's
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (attempt === 1) return { status: 0, type: null, text: `no answer: ${cause?.code ?? ''} ${cause?.message ?? (err as Error).message}`, retryAfter: null };
    }
  }
}

/** What is wrong with a reply, if anything: 5xx (503 only as load shedding with Retry-After), or a 4xx that is not problem+json. */
export function judge(c: HttpCase, o: HttpOutcome): string | undefined {
  if (o.status === 0) return 'the connection closed without an answer';
  const bad = o.status >= 500 && !(o.status === 503 && o.retryAfter);
  if (!bad && o.status < 400) return undefined;
  // Node's HTTP parser refuses a request line or headers over its 16 KiB limit itself, before any app code runs
  if (o.status === 431 && o.text === '') return undefined;
  if (!bad) {
    if (!(o.type ?? '').startsWith('application/problem+json')) return `${o.status} is not application/problem+json (${o.type})`;
    try {
      const p = JSON.parse(o.text);
      if (p.status !== o.status || typeof p.title !== 'string') return `${o.status} problem body does not name its status: ${o.text.slice(0, 200)}`;
    } catch {
      return `${o.status} problem body is not JSON`;
    }
    return undefined;
  }
  return `${o.status}`;
}

export const describeCase = (seed: number, c: HttpCase, o?: HttpOutcome) =>
  `[seed ${seed}] ${c.role} ${c.method} ${c.url.length > 300 ? c.url.slice(0, 300) + '…' : c.url} (${c.what})` +
  (c.headers['content-type'] ? ` content-type: ${c.headers['content-type']}` : '') +
  (c.body !== undefined ? ` body: ${preview(c.body, 300)}` : '') +
  (o ? ` → ${o.status} ${o.text.slice(0, 300)}` : '');

export type HttpFuzzResult = { cases: number; failures: string[]; undocumented: Set<string> };

/**
 * Fuzzes every operation, shuffled, for `seconds`, roles in turn. After each request that may write, the owner's
 * rows are compared with the last known state: only an accepted request of the owner may have changed them.
 */
export async function fuzzHttp(api: TestApi, world: World, rng: Rng, seconds: number, roles: Role[] = ['anonymous', 'stranger', 'owner']): Promise<HttpFuzzResult> {
  const doc = (await (await fetch(`${api.base}/api/openapi.json`)).json()) as Doc;
  const ops = operations(doc);
  // one entry per kind of failure and operation (the first request that showed it, and how often it recurred)
  const found = new Map<string, { n: number; example: string }>();
  const fail = (kind: string, example: string) => {
    const f = found.get(kind);
    if (f) f.n++;
    else found.set(kind, { n: 1, example });
  };
  const undocumented = new Set<string>();
  const deadline = Date.now() + seconds * 1000;
  let cases = 0;
  let rows = await ownerRows(api, world);
  for (let round = 0; Date.now() < deadline; round++) {
    for (const op of rng.shuffle([...ops])) {
      if (Date.now() >= deadline) break;
      const role = roles[(round + cases) % roles.length]!;
      const c = buildCase(rng, op, role, world, api.base, api.config.maxBodyBytes);
      const o = await send(c);
      cases++;
      if (!o) continue;
      const wrong = judge(c, o);
      if (wrong) fail(`${wrong.split(' (')[0]} ${op.method} ${op.template}`, `${wrong}: ${describeCase(rng.seed, c, o)}`);
      try {
        const url = new URL(c.url);
        api.spec.check(c.method, url.pathname, o.status, o.type, o.text && o.type?.includes('json') ? JSON.parse(o.text) : o.text || undefined);
      } catch (err) {
        undocumented.add(`${op.method} ${op.template} → ${o.status}: ${(err as Error).message.split('\n')[0]!.replace(/^.*?→ \d+: /, '')}`);
      }
      if (c.method === 'GET') continue;
      // after every request that may write: the owner's rows are what they were, unless the owner's request was accepted
      const after = await ownerRows(api, world);
      if (after === rows) continue;
      if (role === 'owner' && o.status < 300) {
        // an accepted edit (a renamed slug, say): the owner's real ids follow
        const slugs = (await api.deps.database.db.select({ slug: channel.slug }).from(channel).where(eq(channel.ownerId, world.owner.user!.id))).map((r) => r.slug);
        world.ownerSlug = slugs[0] ?? world.ownerSlug;
        world.ids.slug = [...slugs, world.strangerSlug];
      } else if (role === 'owner') {
        fail(`refused-changed ${op.method} ${op.template}`, `a refused owner request changed stored rows: ${describeCase(rng.seed, c, o)}`);
      } else {
        fail(`others-changed ${op.method} ${op.template}`, `a ${role}'s request changed the owner's stored rows: ${describeCase(rng.seed, c, o)}`);
      }
      rows = after;
    }
  }
  // reads must not change anything either: one last comparison covers the GETs of strangers and visitors
  if ((await ownerRows(api, world)) !== rows) fail('read-changed', `[seed ${rng.seed}] the owner's stored rows changed during the run without an accepted owner request`);
  const failures = [...found.values()].map((f) => (f.n > 1 ? `${f.example} (and ${f.n - 1} more like it)` : f.example));
  return { cases, failures, undocumented };
}
