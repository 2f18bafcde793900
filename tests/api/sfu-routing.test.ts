// Routing WHIP/WHEP among SFU nodes (api/sfu-proxy.ts with SFU_DISCOVERY=redis): which node a request goes to,
// the node's id in the resource paths handed out, 503 with Retry-After when no node is registered, and the admin's
// node list and drain (GET /api/admin/sfu-nodes, POST /api/admin/sfu-nodes/{id}/drain). The nodes here are registry
// entries only; tests/live/nodes.test.ts runs real SFU processes behind two APIs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { named, route, SuspectNodes } from '../../api/sfu-proxy.ts';
import { registerNode, type SfuNodeState } from '../../shared/sfu-nodes.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';

const node = (id: string, over: Partial<SfuNodeState> = {}): SfuNodeState => ({ id, url: `http://${id}`, capacity: 100, load: 0, channels: [], draining: false, ...over });
const to = (r: ReturnType<typeof route>) => ('node' in r ? `${r.node.id} ${r.path}` : `${r.status}`);

const r = suite('routing among SFU nodes');

r('WHIP goes to the origin, else to the least loaded node not draining; WHEP to the origin', () => {
  const nodes = [node('a', { load: 80, channels: [{ id: '1', slug: 'live-on-a' }] }), node('b', { load: 10 }), node('c', { load: 0, draining: true })];
  assert.is(to(route(nodes, 'POST', '/whip/new-show')), 'b /whip/new-show', 'the most room, not draining');
  assert.is(to(route(nodes, 'POST', '/whip/live-on-a')), 'a /whip/live-on-a', 'a publisher coming back reaches its broadcast');
  assert.is(to(route(nodes, 'POST', '/whep/live-on-a')), 'a /whep/live-on-a', 'viewers go where the broadcast is');
  assert.is(to(route(nodes, 'POST', '/whep/offline')), 'b /whep/offline', 'an offline channel: any node answers that');
  assert.is(to(route([node('c', { draining: true })], 'POST', '/whip/new-show')), '503', 'only draining nodes: none for a new broadcast');
  assert.is(to(route([], 'POST', '/whep/x')), '503');
  assert.is(to(route(nodes, 'POST', '/whep/%E0%A4%A')), 'b /whep/%E0%A4%A', 'a malformed escape is a name no channel has, not a 500');
});

r('with edge pull, WHEP goes to the least loaded node not draining (the origin among equals), WHIP as before', () => {
  const nodes = [node('a', { load: 80, channels: [{ id: '1', slug: 'live-on-a' }] }), node('b', { load: 10 }), node('c', { load: 0, draining: true })];
  assert.is(to(route(nodes, 'POST', '/whep/live-on-a', true)), 'b /whep/live-on-a', 'b pulls it from a');
  assert.is(to(route(nodes, 'POST', '/whip/live-on-a', true)), 'a /whip/live-on-a', 'a publisher still reaches its origin');
  assert.is(to(route(nodes, 'POST', '/whep/offline', true)), 'b /whep/offline');
  const even = [node('b'), node('a', { channels: [{ id: '1', slug: 'live-on-a' }] })];
  assert.is(to(route(even, 'POST', '/whep/live-on-a', true)), 'a /whep/live-on-a', 'equal room: the origin, no pipe needed');
  const alone = [node('a', { load: 90, draining: true, channels: [{ id: '1', slug: 'live-on-a' }] }), node('c', { draining: true })];
  assert.is(to(route(alone, 'POST', '/whep/live-on-a', true)), 'a /whep/live-on-a', 'every other node draining: the origin');
});

r('a draining origin keeps its broadcast but takes no new viewer and no new publisher while another node stays', () => {
  const nodes = [node('a', { load: 0, draining: true, channels: [{ id: '1', slug: 'live-on-a' }] }), node('b', { load: 50 })];
  assert.is(to(route(nodes, 'POST', '/whep/live-on-a', true)), 'b /whep/live-on-a', 'b pulls it from the draining origin');
  assert.is(to(route(nodes, 'POST', '/whep/live-on-a', false)), 'a /whep/live-on-a', 'without edge pull only the origin has it');
  assert.is(to(route(nodes, 'POST', '/whip/live-on-a', true)), 'b /whip/live-on-a', "the publisher's reconnect goes to a node that stays");
  assert.is(to(route([nodes[0]!], 'POST', '/whip/live-on-a', true)), 'a /whip/live-on-a', 'nowhere else: the origin answers');
});

r('SuspectNodes: a node found unreachable is skipped until its entry lapses or it beats again', () => {
  const suspects = new SuspectNodes();
  const a = node('a', { beatAt: 1000 });
  const b = node('b', { beatAt: 1000 });
  suspects.mark(a);
  assert.equal(suspects.healthy([a, b]).map((n) => n.id), ['b'], 'listed with the entry it had when it failed: left out');
  assert.equal(suspects.healthy([{ ...a, beatAt: 3000 }, b]).map((n) => n.id), ['a', 'b'], 'a beat since: chosen again');
  suspects.mark(a);
  assert.equal(suspects.healthy([b]).map((n) => n.id), ['b'], 'lapsed');
  assert.equal(suspects.healthy([a, b]).map((n) => n.id), ['a', 'b'], 'and forgotten: registered again, it is chosen');
});

r("a session's resource path names its node: PATCH and DELETE reach it with the node's own path", () => {
  const nodes = [node('a'), node('b')];
  assert.is(to(route(nodes, 'DELETE', '/whep/show/b.tok_en-1')), 'b /whep/show/tok_en-1');
  assert.is(to(route(nodes, 'PATCH', '/whip/show/a.tok')), 'a /whip/show/tok');
  assert.is(to(route(nodes, 'POST', '/whep/show/b.tok/layers')), 'b /whep/show/tok/layers');
  assert.is(to(route(nodes, 'DELETE', '/whep/show/gone.tok')), '404', 'its node is gone: so is the session');
  assert.is(to(route(nodes, 'DELETE', '/whep/show/tok')), '404', 'no node named');
});

r("named() writes the node into the 201's Location and the Link built on it", () => {
  const answer = new Response('v=0', { status: 201, headers: { location: '/whep/show/tok', link: '</whep/show/tok/layers>; rel="urn:ietf:params:whep:ext:core:layer"' } });
  const out = named(answer, node('n-2'));
  assert.is(out.headers.get('location'), '/whep/show/n-2.tok');
  assert.is(out.headers.get('link'), '</whep/show/n-2.tok/layers>; rel="urn:ietf:params:whep:ext:core:layer"');
  assert.is(named(new Response(null, { status: 404 }), node('x')).headers.get('location'), null);
});

r.run();

type Ctx = { api: TestApi; admin: Client; prefix: string };
const t = suite<Ctx>('an API routing to registered SFU nodes');
t.before(async (ctx) => {
  ctx.prefix = `routing-${process.pid}-${Date.now()}:`;
  ctx.api = await startTestApi({ SFU_DISCOVERY: 'redis', REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: ctx.prefix, RECORDER_EMBEDDED: 'false' });
  ctx.admin = await ctx.api.client().signUp('Admin'); // the first account: admin
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

t('with no node registered, WHIP and WHEP are 503 problems with Retry-After', async ({ api }) => {
  assert.is(api.sfu, undefined, 'no SFU in the API process');
  for (const path of ['/whip/somewhere', '/whep/somewhere']) {
    const res = await fetch(api.base + path, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' });
    assert.is(res.status, 503, path);
    assert.is(res.headers.get('content-type'), 'application/problem+json');
    assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After');
  }
});

t('GET /api/admin/sfu-nodes lists the registered nodes; POST …/drain asks one on the bus; both admin-only', async ({ api, admin, prefix }) => {
  const beat = await registerNode('redis://127.0.0.1:6379', prefix, () => node('node-1', { url: 'http://127.0.0.1:9', load: 2 }), undefined);
  const asked: string[] = [];
  const off = api.deps.bus.subscribe('sfu.drain', ({ nodeId }) => asked.push(nodeId));
  try {
    const list = await admin.get('/api/admin/sfu-nodes');
    assert.is(list.status, 200);
    assert.equal(list.body.nodes.map((n: SfuNodeState) => [n.id, n.load]), [['node-1', 2]]);
    const drain = await admin.post('/api/admin/sfu-nodes/node-1/drain', {});
    assert.is(drain.status, 202);
    assert.equal(asked, ['node-1']);
    assert.is((await admin.post('/api/admin/sfu-nodes/nobody/drain', {})).status, 404);
    const user = await api.client().signUp('Nosy');
    assert.is((await user.post('/api/admin/sfu-nodes/node-1/drain', {})).status, 403);
    assert.is((await api.client().get('/api/admin/sfu-nodes')).status, 401);
    assert.equal(asked, ['node-1'], 'only the admin asked');
    // a node that cannot be reached (listed, nothing listening): 503, not a hang or a 500
    const res = await fetch(api.base + '/whep/anything', { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' });
    assert.is(res.status, 503);
  } finally {
    off();
    await beat.stop();
  }
});

t.run();
