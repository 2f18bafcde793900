// SFU services (.build/sfu.mjs) and API processes (.build/api.mjs, SFU_DISCOVERY=redis) on one PostgreSQL and one
// private redis-server, with a Chromium to publish and watch through them: the setup of the many-nodes tests.
import type { Page } from 'playwright-core';
import type { ChildProcess } from 'node:child_process';
import * as assert from 'uvu/assert';
import { openDatabase, type Database } from '../../shared/db/index.ts';
import { redisNodes, type SfuNodes, type SfuNodeState } from '../../shared/sfu-nodes.ts';
import { Client, channelWithKey, freePort, freshDatabase, LOOSE_LIMITS } from './api.ts';
import { launchBrowser, type Browser } from './browser.ts';
import { OpenApiChecker } from './openapi.ts';
import { startProcess, waitForHttp, type Child } from './process.ts';
import { killRedis, startRedis } from './redis-server.ts';
import { publish } from './webrtc.ts';

export type Cluster = {
  env: Record<string, string>;
  redisPort: number;
  redis: ChildProcess;
  sfus: Map<string, { child: Child; port: number }>;
  apis: { base: string; child: Child }[];
  registry: SfuNodes;
  database: Database;
  owner: Client;
  browser: Browser;
  pages: Page[];
  /** extra environment of every SFU service */
  sfuEnv: Record<string, string>;
  dropDatabase(): Promise<void>;
};

/** Starts (or starts again, on its port) the SFU node `id` and waits until it is ready. */
export async function startSfu(ctx: Cluster, id: string): Promise<void> {
  const port = ctx.sfus.get(id)?.port ?? (await freePort());
  const child = startProcess(process.execPath, ['.build/sfu.mjs'], {
    env: { ...ctx.env, PORT: String(port), SFU_NODE_ID: id, SFU_WORKERS: '1', RTC_PORT: '0', RTMP_PORT: '0', TRUSTED_PROXIES: '127.0.0.1', RECORDER_EMBEDDED: 'false', WHEP_OFFERS_PER_MINUTE: '100000', ...ctx.sfuEnv },
  });
  ctx.sfus.set(id, { child, port });
  await waitForHttp(`http://127.0.0.1:${port}/readyz`, 60_000, child);
}

/** Sets up `nodes` SFU services and `apis` APIs (the first account, signed up on API 1, is the admin). */
export async function startCluster(ctx: Cluster, opts: { nodes: string[]; apis: number; sfuEnv?: Record<string, string> }): Promise<void> {
  const db = await freshDatabase('postgres');
  ctx.dropDatabase = db.drop;
  ctx.redisPort = await freePort();
  ctx.redis = await startRedis(ctx.redisPort);
  const redisUrl = `redis://127.0.0.1:${ctx.redisPort}`;
  const prefix = `glint-nodes-${process.pid}:`;
  ctx.env = {
    ...(process.env as Record<string, string>),
    ...LOOSE_LIMITS,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.GLINT_TEST_LOG ?? 'warn',
    DATABASE_URL: db.url!,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    BETTER_AUTH_SECRET: 'nodes test secret, the same on every service',
    DATA_DIR: `/tmp/glint-nodes-${process.pid}`,
  };
  ctx.sfuEnv = opts.sfuEnv ?? {};
  ctx.sfus = new Map();
  ctx.pages = [];
  ctx.registry = await redisNodes(redisUrl, prefix, undefined);
  ctx.database = await openDatabase({ url: db.url });
  // one at a time: two mediasoup services starting at once on two cores slow each other's readiness
  for (const id of opts.nodes) await startSfu(ctx, id);
  ctx.apis = [];
  for (let i = 0; i < opts.apis; i++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = startProcess(process.execPath, ['.build/api.mjs'], {
      env: { ...ctx.env, PORT: String(port), PUBLIC_URL: base, SFU_DISCOVERY: 'redis', RECORDER_EMBEDDED: 'false', TRANSCODE_IN_API: 'false', DATA_DIR: `${ctx.env.DATA_DIR}/api-${i}`, ...ctx.sfuEnv },
    });
    ctx.apis.push({ base, child });
    await waitForHttp(`${base}/readyz`, 60_000, child);
  }
  ctx.owner = await new Client(ctx.apis[0]!.base, await OpenApiChecker.load(ctx.apis[0]!.base)).signUp('Nodes Owner'); // first account: admin
  ctx.browser = await launchBrowser({ fakeMedia: true });
}

export async function stopCluster(ctx: Cluster): Promise<void> {
  await ctx.browser?.close();
  for (const api of ctx.apis ?? []) await api.child.stop();
  for (const { child } of ctx.sfus?.values() ?? []) await child.stop();
  await ctx.registry?.close();
  await ctx.database?.close();
  if (ctx.redis) await killRedis(ctx.redis);
  await ctx.dropDatabase?.();
}

/** The ids of the nodes registered now, sorted. */
export const ids = async (ctx: Cluster) => (await ctx.registry.list().catch(() => [] as SfuNodeState[])).map((n) => n.id).sort();

/** The node a WHIP/WHEP Location names (/<kind>/<channel>/<node>.<token>). */
export const nodeOf = (location: string | null, slug: string, kind = 'whip') =>
  new RegExp(`^/${kind}/${slug}/(node-[ab])\\.[A-Za-z0-9_-]{43}$`).exec(location ?? '')?.[1];

export async function newPage(ctx: Cluster, base: string): Promise<Page> {
  const page = await ctx.browser.context.newPage();
  page.setDefaultTimeout(20_000);
  ctx.pages.push(page);
  await page.goto(base + '/');
  return page;
}

/** Goes live on a new channel through `base` (Chromium's fake camera over WHIP); returns the node and the page. */
export async function goLive(ctx: Cluster, base: string, slug: string): Promise<{ node: string | undefined; page: Page }> {
  const key = await channelWithKey(ctx.owner, slug);
  const page = await newPage(ctx, base);
  const p = await publish(page, { slug, key });
  assert.is(p.status, 201, p.body);
  return { node: nodeOf(p.location, slug), page };
}

/** How the second viewer watches: the WHEP helper (default), or the channel page's player. */
export type Watcher = (page: Page, slug: string) => Promise<{ status: number; location: string | null; body: string }>;

/**
 * The channel page (web/src/components/live-player.tsx) playing `slug`: the first WHEP answer's status and Location
 * (later ones, its reconnects, in `locations`).
 */
export function channelPage(locations: string[]): Watcher {
  return async (page, slug) => {
    const first = new Promise<{ status: number; location: string | null; body: string }>((resolve) => {
      page.on('response', (r) => {
        if (r.request().method() !== 'POST' || new URL(r.url()).pathname !== `/whep/${slug}`) return;
        const location = r.headers()['location'] ?? null;
        if (r.status() === 201 && location) locations.push(location);
        resolve({ status: r.status(), location, body: '' });
      });
    });
    await page.goto(`${page.url().replace(/\/$/, '')}/c/${slug}`);
    return first;
  };
}

/** Frames the channel page's player has shown. */
export const shown = (page: Page) => page.evaluate(() => (document.querySelector('[data-testid="player-video"]') as HTMLVideoElement | null)?.getVideoPlaybackQuality().totalVideoFrames ?? 0);
