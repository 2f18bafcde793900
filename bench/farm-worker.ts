// One process of the viewer farm (bench/farm.ts): holds farm clients (bench/farm-client.ts) for one channel, so the
// farm's packet handling spreads over processes rather than queueing on one event loop. Driven over the IPC channel:
// { add: n } starts n more viewers (a few at a time) and answers { added, failed, ttffMs } once they all have their
// first video packet or gave up; { stats: true } answers { stats } (one entry per viewer); { stop: true } ends every
// session (WHEP DELETE) and exits.
// Run by bench/farm.ts as: node --import tsx bench/farm-worker.ts <base URL> <slug> [decrypt]
import { FarmClient, type ClientStats } from './farm-client.ts';

export type FarmRequest = { add: number } | { stats: true } | { stop: true };
export type FarmReply = { added: number; failed: string[]; ttffMs: number[] } | { stats: ClientStats[] } | { stopped: true };

const [base, slug, mode] = process.argv.slice(2) as [string, string, string?];
const decrypt = mode === 'decrypt';
/** Offers in flight at once: each costs the SFU a transport and DTLS handshake, and this process the crypto. */
const JOINING_AT_ONCE = 4;
/** How long a new viewer may wait for its first video packet before it counts as failed. */
const FIRST_FRAME_TIMEOUT_MS = 15_000;
const clients: FarmClient[] = [];
const reply = (r: FarmReply) => process.send!(r);

async function add(n: number) {
  const fresh: FarmClient[] = [];
  const failed: string[] = [];
  let next = 0;
  const joinOne = async () => {
    while (next < n) {
      next++;
      const c = new FarmClient(base, slug, { decrypt });
      try {
        await c.start();
        fresh.push(c);
        clients.push(c);
      } catch (err) {
        failed.push((err as Error).message);
        await c.stop();
      }
    }
  };
  await Promise.all(Array.from({ length: JOINING_AT_ONCE }, joinOne));
  const deadline = Date.now() + FIRST_FRAME_TIMEOUT_MS;
  while (Date.now() < deadline && fresh.some((c) => c.stats().ttffMs === undefined)) await new Promise((r) => setTimeout(r, 100));
  const ttffMs = fresh.flatMap((c) => c.stats().ttffMs ?? []);
  for (let i = ttffMs.length; i < fresh.length; i++) failed.push(`no video packet within ${FIRST_FRAME_TIMEOUT_MS} ms`);
  reply({ added: fresh.length, failed, ttffMs });
}

process.on('message', (m: FarmRequest) => {
  if ('add' in m) void add(m.add);
  else if ('stats' in m) reply({ stats: clients.map((c) => c.stats()) });
  else if ('stop' in m) {
    void Promise.all(clients.map((c) => c.stop())).then(() => {
      reply({ stopped: true });
      process.exit(0);
    });
  }
});
// the farm went away without saying stop: end the sessions anyway
process.on('disconnect', () => void Promise.all(clients.map((c) => c.stop())).then(() => process.exit(0)));
