import { channelWithKey, startTestApi } from './helpers/api.ts';
import { capturingLogger } from './helpers/fuzz/common.ts';
import { chatSocket } from './helpers/chat.ts';
const cap = capturingLogger();
const api = await startTestApi({}, { log: cap.log, db: (process.argv[2] as any) ?? 'pglite' });
await api.client().signUp('Admin');
const owner = await api.client().signUp('Owner');
await channelWithKey(owner, 'own');
const tier = await owner.post('/api/channels/own/tiers', { name: 'Gold', priceCents: 1 });
const cookie = [...owner.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
const reqs: [string, string, unknown?][] = [
  ['GET', '/api/channels/a%00b'],
  ['GET', '/api/channels?owner=a%00b'],
  ['GET', '/api/channels?q=a%00b'],
  ['GET', '/api/channels?category=%00'],
  ['GET', '/api/channels?tag=%00'],
  ['GET', '/api/search?q=a%00b'],
  ['GET', '/api/search?category=%00'],
  ['GET', '/api/me/notifications?before=%00'],
  ['POST', '/api/channels', { slug: 'new-one', title: 'a\u0000b' }],
  ['POST', '/api/channels', { slug: 'new-two', title: 'x\ud800y' }],
  ['PATCH', '/api/channels/own', { description: 'a\u0000b' }],
  ['PATCH', '/api/channels/own', { title: 'x\udfffy' }],
  ['POST', '/api/channels/own/stream-keys', { label: 'a\u0000' }],
  ['POST', '/api/channels/own/tiers', { name: 'a\u0000', priceCents: 1 }],
  ['PATCH', `/api/channels/own/tiers/${tier.body.id}`, { perks: '\ud800' }],
  ['POST', '/api/channels/own/webhooks', { url: 'https://hooks.example.test/\u0000' }],
  ['POST', '/api/auth/sign-up/email', { name: 'a\u0000b', email: 'nul@example.test', password: 'correct horse battery' }],
  ['POST', '/api/auth/sign-in/email', { email: 'nobody@example.test', password: 'wrong wrong wrong' }],
  ['POST', '/api/auth/sign-out'],
];
for (const [method, path, json] of reqs) {
  const r = await fetch(api.base + path, { method, headers: { origin: api.base, cookie, ...(json ? { 'content-type': 'application/json' } : {}) }, body: json ? JSON.stringify(json) : undefined });
  const text = await r.text();
  console.log(`${method} ${path} ${json ? JSON.stringify(json) : ''} → ${r.status} ${r.headers.get('content-type')} ${text.slice(0, 120)}`);
}
const s = await chatSocket(api.base, owner);
await s.timeout(3000).emitWithAck('join', { channel: 'own' });
for (const payload of [{ channel: 'own', text: 'a\u0000b' }, { channel: 'own', text: 'x\ud800y' }, { channel: 'a\u0000', text: 'x' }]) {
  console.log('chat send', JSON.stringify(payload), '→', JSON.stringify(await s.timeout(3000).emitWithAck('send', payload)));
}
s.disconnect();
const seen = new Set<string>();
for (const l of cap.errors()) { const c = (l.err?.stack ?? '').split('\n').find((x) => /caused by/.test(x)) ?? l.err?.message; const k = `${l.msg} ${l.path ?? ''} ${c}`; if (!seen.has(k)) { seen.add(k); console.log('LOG', l.msg, l.method ?? '', JSON.stringify(l.path ?? ''), '|', c?.trim()); } }
await api.stop(); process.exit(0);
