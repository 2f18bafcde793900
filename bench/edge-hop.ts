// Benchmark: what the edge pull's pipe hop adds to glass-to-glass latency (sfu/cluster/EdgePull.ts). Two SFU nodes
// (and an API for the channel and its key) on one PostgreSQL and a private redis-server; the publisher page draws the
// wall clock into its frames (bench/clock.ts) and goes live over WHIP on node A. Two viewer pages read the clock back
// from every decoded frame: one playing over WHEP from node A (the origin: the baseline, in the same run), one from
// node B, which pulls the broadcast from A over an SRTP pipe. Every page runs in its own Chromium process on this
// machine, so all read one wall clock.
// Run: npm run bench:edge-hop   (options: --seconds 15 --warmup 4 --codec VP8)
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { channelWithKey } from '../tests/helpers/api.ts';
import { launchBrowser } from '../tests/helpers/browser.ts';
import { startCluster, stopCluster, type Cluster } from '../tests/helpers/sfu-cluster.ts';
import { until } from '../tests/helpers/webrtc.ts';
import { clockPage, pct } from './clock.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' }, warmup: { type: 'string', default: '4' }, codec: { type: 'string', default: 'VP8' } } });
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const SLUG = 'edge-hop';

const samples = (page: Page) => page.evaluate(() => ({ samples: (window as any).__samples as [number, number][], unreadable: (window as any).__unreadable as number }));

async function main() {
  const ctx = {} as Cluster;
  // one Chromium per page: a page in a background tab is not rendered, and requestVideoFrameCallback then fires ~1/s
  const browsers = { pub: await launchBrowser({ fakeMedia: true }), origin: await launchBrowser({ fakeMedia: true }), edge: await launchBrowser({ fakeMedia: true }) };
  const rows: string[] = [];
  try {
    await startCluster(ctx, { nodes: ['node-a', 'node-b'], apis: 1 });
    const node = (id: string) => `http://127.0.0.1:${ctx.sfus.get(id)!.port}`;
    const key = await channelWithKey(ctx.owner, SLUG);
    // each page on one node's own origin: its WHIP or WHEP goes to that node, not where a router would send it
    const pages = { pub: await clockPage(browsers.pub.context, node('node-a')), origin: await clockPage(browsers.origin.context, node('node-a')), edge: await clockPage(browsers.edge.context, node('node-b')) };
    await pages.pub.evaluate(() => (window as any).__startClock());
    await pages.pub.evaluate(([s, k, c]) => (window as any).__whip(s, k, c), [SLUG, key, values.codec!]);
    await until(() => ctx.registry.list(), (l) => l.some((n) => n.id === 'node-a' && n.channels.some((c) => c.slug === SLUG)));
    await pages.origin.evaluate((s) => (window as any).__whep(s), SLUG);
    await pages.edge.evaluate((s) => (window as any).__whep(s), SLUG);
    const b = await until(() => ctx.registry.list(), (l) => !!l.find((n) => n.id === 'node-b')?.relays?.length);
    if (!b.find((n) => n.id === 'node-b')?.relays?.length) throw new Error('node B does not relay the broadcast');

    await new Promise((r) => setTimeout(r, WARMUP * 1000));
    for (const p of [pages.origin, pages.edge]) await p.evaluate(() => (window as any).__resetSamples());
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const codec = await pages.pub.evaluate(() => (window as any).__codec());
    const medians: number[] = [];
    for (const [path, page] of [['node A, the origin (baseline)', pages.origin], ['node B, through the pipe from A', pages.edge]] as const) {
      const { samples: s, unreadable } = await samples(page);
      if (s.length < 10) throw new Error(`${path}: only ${s.length} frames read back (${unreadable} unreadable)`);
      const display = s.map((x) => x[0]);
      medians.push(pct(display, 50));
      rows.push(`| ${codec} | ${path} | ${s.length} | ${(s.length / SECONDS).toFixed(1)} | ${pct(display, 50)} | ${pct(display, 95)} | ${unreadable} |`);
    }
    rows.push(`added by the pipe hop: ${medians[1]! - medians[0]!} ms at the median`);
  } finally {
    for (const b of Object.values(browsers)) await b.close();
    await stopCluster(ctx);
  }
  console.log(`\nGlass-to-glass latency, ${SECONDS} s after ${WARMUP} s warm-up, 640×360 @ 30 fps canvas clock, published on node A:\n`);
  console.log('| codec | viewer on | frames | fps | median ms | p95 ms | unreadable |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
}

await main();
