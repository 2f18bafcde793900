// A FAKE Meilisearch: Meilisearch cannot be installed on this machine, so the MeiliSearch adapter is tested against
// this small node:http server implementing the documented endpoints the `meilisearch` client calls for it — create
// index, settings, add/replace documents, delete documents by id, delete all documents, search, get task — with the
// documented shapes (202 + summarized task, task objects, search responses, error objects). Its search is a plain
// approximation of Meilisearch's (all words must match, the last as a prefix; one typo from 5 letters, two from 9;
// ranked by the searchable attribute matched and typos); the real engine's ranking is Meilisearch's business.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Doc = Record<string, unknown> & { id: string };
type Settings = { searchableAttributes?: string[]; filterableAttributes?: string[]; sortableAttributes?: string[] };
type Task = { uid: number; indexUid: string | null; status: 'succeeded' | 'failed'; type: string; error: null | { message: string; code: string; type: string; link: string } };
type FakeIndex = { uid: string; primaryKey: string; docs: Map<string, Doc>; settings: Settings };

export type MeiliFake = {
  url: string;
  indexes: Map<string, FakeIndex>;
  /** every request, as "METHOD /path" */
  requests: string[];
  /** when true, every task fails (as when Meilisearch runs out of disk) */
  failTasks: boolean;
  /** when true, every connection is dropped unanswered (as when Meilisearch is down) */
  down: boolean;
  close(): Promise<void>;
};

const words = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

/** Typos allowed for a query word (Meilisearch's defaults: minWordSizeForTypos oneTypo 5, twoTypos 9). */
const allowedTypos = (w: string) => (w.length >= 9 ? 2 : w.length >= 5 ? 1 : 0);

/** Best (attribute rank, typos) at which a query word matches the document, or null. */
function matchWord(doc: Doc, attrs: string[], w: string, prefix: boolean): [number, number] | null {
  let best: [number, number] | null = null;
  attrs.forEach((attr, rank) => {
    const v = doc[attr];
    for (const dw of words(Array.isArray(v) ? v.join(' ') : String(v ?? ''))) {
      const typos = dw === w || (prefix && dw.startsWith(w)) ? 0 : distance(w, prefix ? dw.slice(0, w.length) : dw);
      if (typos <= allowedTypos(w) && (!best || rank < best[0] || (rank === best[0] && typos < best[1]))) best = [rank, typos];
    }
  });
  return best;
}

class FilterError extends Error {}

/**
 * Parses the filter the adapter sends, in Meilisearch's array form (every element must hold; an inner array holds when
 * any of its expressions does), of expressions `attr = "text"`, `attr = true|false`, `attr >= n`, `attr <= n`.
 */
function filterFn(exprs: (string | string[])[], filterable: string[]): (d: Doc) => boolean {
  const tests = exprs.map((e): ((d: Doc) => boolean) => {
    if (Array.isArray(e)) {
      const any = e.map((one) => filterFn([one], filterable));
      return (d) => any.some((t) => t(d));
    }
    const m = /^(\w+)\s*(=|>=|<=)\s*(?:"((?:[^"\\]|\\.)*)"|(true|false)|(-?\d+(?:\.\d+)?))$/.exec(e.trim());
    if (!m) throw new FilterError(`Was expecting a filter expression, got \`${e}\`.`);
    const [, attr, op, str, bool, num] = m;
    if (!filterable.includes(attr!)) throw new FilterError(`Attribute \`${attr}\` is not filterable. Available filterable attributes are: \`${filterable.join(', ')}\`.`);
    const want = str !== undefined ? str.replace(/\\(.)/g, '$1') : bool !== undefined ? bool === 'true' : Number(num);
    return (d: Doc) => {
      const v = d[attr!];
      if (op === '=') return typeof v === 'string' && typeof want === 'string' ? v.toLowerCase() === want.toLowerCase() : v === want;
      return op === '>=' ? Number(v) >= Number(want) : Number(v) <= Number(want);
    };
  });
  return (d) => tests.every((t) => t(d));
}

export async function startMeiliFake(opts: { apiKey?: string } = {}): Promise<MeiliFake> {
  const indexes = new Map<string, FakeIndex>();
  const tasks: Task[] = [];
  const requests: string[] = [];
  const fake = { indexes, requests, failTasks: false, down: false } as MeiliFake;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, code: string, message: string, type = 'invalid_request') =>
    send(res, status, { message, code, type, link: `https://docs.meilisearch.com/errors#${code}` });

  /** Runs an operation as a task at once; answers 202 with the summarized task, as Meilisearch does. */
  const enqueue = (res: ServerResponse, indexUid: string, type: string, run: () => void | { code: string; message: string }) => {
    let failure = fake.failTasks ? { code: 'no_space_left_on_device', message: 'The fake was told to fail its tasks.' } : undefined;
    if (!failure) failure = run() ?? undefined;
    const task: Task = {
      uid: tasks.length,
      indexUid,
      type,
      status: failure ? 'failed' : 'succeeded',
      error: failure ? { ...failure, type: 'invalid_request', link: `https://docs.meilisearch.com/errors#${failure.code}` } : null,
    };
    tasks.push(task);
    send(res, 202, { taskUid: task.uid, indexUid, status: 'enqueued', type, enqueuedAt: new Date().toISOString() });
  };
  const indexFor = (uid: string, primaryKey = 'id') => {
    let idx = indexes.get(uid);
    if (!idx) indexes.set(uid, (idx = { uid, primaryKey, docs: new Map(), settings: {} }));
    return idx;
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url!, 'http://fake');
    if (fake.down) return void req.socket.destroy();
    requests.push(`${req.method} ${url.pathname}`);
    if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return error(res, 401, 'invalid_api_key', 'The provided API key is invalid.', 'auth');
    }
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? JSON.parse(raw) : undefined;
    const path = url.pathname.split('/').filter(Boolean);

    if (req.method === 'GET' && path[0] === 'tasks' && path.length === 2) {
      const task = tasks[Number(path[1])];
      if (!task) return error(res, 404, 'task_not_found', `Task \`${path[1]}\` not found.`);
      const now = new Date().toISOString();
      return send(res, 200, { ...task, batchUid: task.uid, canceledBy: null, details: {}, duration: 'PT0S', enqueuedAt: now, startedAt: now, finishedAt: now });
    }
    if (path[0] !== 'indexes') return error(res, 404, 'not_found', 'Not found.');
    if (req.method === 'POST' && path.length === 1) {
      const uid = String(body.uid);
      return enqueue(res, uid, 'indexCreation', () => {
        if (indexes.has(uid)) return { code: 'index_already_exists', message: `Index \`${uid}\` already exists.` };
        indexFor(uid, body.primaryKey);
      });
    }
    const uid = path[1]!;
    const rest = path.slice(2).join('/');
    if (req.method === 'PATCH' && rest === 'settings') {
      return enqueue(res, uid, 'settingsUpdate', () => void Object.assign(indexFor(uid).settings, body));
    }
    if (req.method === 'POST' && rest === 'documents') {
      const key = url.searchParams.get('primaryKey') ?? indexFor(uid).primaryKey;
      return enqueue(res, uid, 'documentAdditionOrUpdate', () => {
        for (const d of body as Doc[]) indexFor(uid).docs.set(String(d[key]), d);
      });
    }
    if (req.method === 'POST' && rest === 'documents/delete-batch') {
      return enqueue(res, uid, 'documentDeletion', () => {
        for (const id of body as string[]) indexFor(uid).docs.delete(String(id));
      });
    }
    if (req.method === 'DELETE' && rest === 'documents') {
      return enqueue(res, uid, 'documentDeletion', () => void indexFor(uid).docs.clear());
    }
    if (req.method === 'POST' && rest === 'search') {
      const idx = indexes.get(uid);
      if (!idx) return error(res, 404, 'index_not_found', `Index \`${uid}\` not found.`);
      let keep: (d: Doc) => boolean;
      try {
        keep = filterFn(body.filter ?? [], idx.settings.filterableAttributes ?? []);
      } catch (err) {
        return error(res, 400, 'invalid_search_filter', (err as Error).message);
      }
      for (const s of (body.sort ?? []) as string[]) {
        if (!(idx.settings.sortableAttributes ?? []).includes(s.split(':')[0]!)) return error(res, 400, 'invalid_search_sort', `Attribute \`${s}\` is not sortable.`);
      }
      const qWords = words(body.q ?? '');
      const attrs = idx.settings.searchableAttributes ?? ['*'];
      const scored: { doc: Doc; score: number }[] = [];
      for (const doc of idx.docs.values()) {
        if (!keep(doc)) continue;
        let score = 1;
        const matches = qWords.map((w, i) => matchWord(doc, attrs, w, i === qWords.length - 1));
        if (matches.some((m) => !m)) continue;
        for (const m of matches as [number, number][]) score -= (m[0] * 0.05 + m[1] * 0.2) / qWords.length;
        scored.push({ doc, score: Math.max(0, score) });
      }
      const sort = (body.sort ?? []) as string[];
      scored.sort((a, b) => {
        if (qWords.length) return b.score - a.score;
        for (const s of sort) {
          const [attr, dir] = s.split(':');
          const x = Number(a.doc[attr!]);
          const y = Number(b.doc[attr!]);
          if (x !== y) return dir === 'desc' ? y - x : x - y;
        }
        return 0;
      });
      const offset = body.offset ?? 0;
      const limit = body.limit ?? 20;
      const hits = scored.slice(offset, offset + limit).map((s) => ({ ...s.doc, ...(body.showRankingScore ? { _rankingScore: s.score } : {}) }));
      return send(res, 200, { hits, query: body.q ?? '', processingTimeMs: 0, limit, offset, estimatedTotalHits: scored.length });
    }
    return error(res, 404, 'not_found', `The fake does not implement ${req.method} ${url.pathname}.`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => error(res, 500, 'internal', String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}
