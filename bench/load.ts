// Load for the HTTP benchmarks: autocannon at fixed concurrency against a running API, after a warm-up.
import autocannon from 'autocannon';

export type LoadResult = { rps: number; p50: number; p99: number; errors: number };

/** GETs `paths` (cycled by every connection) for `seconds` after a 2 s warm-up; errors count non-2xx answers too. */
export async function measure(base: string, paths: string[], opts: { connections: number; seconds: number }): Promise<LoadResult> {
  const requests = paths.map((p) => ({ method: 'GET' as const, path: p }));
  await autocannon({ url: base, connections: opts.connections, duration: 2, requests }); // warm-up
  const r = await autocannon({ url: base, connections: opts.connections, duration: opts.seconds, requests });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}
