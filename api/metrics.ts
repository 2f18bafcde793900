// Prometheus metrics (prom-client): request counts and latencies by route template and status.
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

/** A registry per app instance, so several apps in one process (tests) do not share counters. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'glint_' });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'glint_http_requests_total',
    help: 'HTTP requests by method, route template and status.',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'glint_http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status.',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  const middleware: MiddlewareHandler = async (c, next) => {
    const end = duration.startTimer();
    await next();
    // The route template (never the raw path, which would explode label cardinality).
    const routes = matchedRoutes(c);
    const route = routes[c.req.routeIndex]?.path ?? 'unmatched';
    const labels = { method: c.req.method, route: c.res.status === 404 && route.endsWith('*') ? 'unmatched' : route, status: String(c.res.status) };
    requests.inc(labels);
    end(labels);
  };

  return { registry, middleware };
}
