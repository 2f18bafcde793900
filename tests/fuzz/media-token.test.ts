// Fuzz: what a stranger puts in a media URL and its headers — the token (shared/media-token.ts) and the Range header
// (shared/media-http.ts), parsed by the origin and the edge alike. Mutations of a valid token (flipped, cut,
// spliced characters, other parts' pieces, hostile strings) for GLINT_FUZZ_SECONDS (default 2 s): none throws, and
// none but the original grants anything. Random Range headers: none throws, and every range found lies in the file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { importMediaKeys, signMediaToken, verifyMediaToken } from '../../shared/media-token.ts';
import { parseRange } from '../../shared/media-http.ts';
import { fuzzSeconds, fuzzSeed, HOSTILE_STRINGS, Rng } from '../helpers/fuzz/common.ts';

const t = suite('fuzz: media tokens and Range headers');
const SECONDS = fuzzSeconds(2);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/%~ ';

function mutate(rng: Rng, s: string): string {
  const chars = [...s];
  const edits = 1 + rng.int(4);
  for (let i = 0; i < edits; i++) {
    const at = rng.int(chars.length + 1);
    const c = rng.pick([...ALPHABET]);
    switch (rng.int(4)) {
      case 0: chars[at] = c; break;
      case 1: chars.splice(at, 1); break;
      case 2: chars.splice(at, 0, c); break;
      default: chars.splice(at, rng.int(chars.length)); break;
    }
  }
  return rng.chance(0.05) ? rng.pick(HOSTILE_STRINGS) + chars.join('') : chars.join('');
}

t('mutated tokens never throw and never grant', async () => {
  const seed = fuzzSeed();
  const rng = new Rng(seed);
  const keys = await importMediaKeys([{ kid: 'k1', secret: 's'.repeat(32) }]);
  const now = 1_800_000_000;
  const prefix = 'vod/11111111-1111-4111-8111-111111111111/';
  const token = await signMediaToken({ prefix, exp: now + 600, viewer: 'u1' }, keys[0]!);
  const other = await signMediaToken({ prefix: 'vod/22222222-2222-4222-8222-222222222222/', exp: now + 600, viewer: 'u2' }, keys[0]!);
  const end = Date.now() + SECONDS * 1000;
  let tries = 0;
  while (Date.now() < end) {
    tries++;
    const candidate = rng.chance(0.2) ? [token.split('.')[0], other.split('.')[1], token.split('.')[2]].join('.') : mutate(rng, token);
    const check = await verifyMediaToken(candidate, `${prefix}seg-00000.ts`, keys, now).catch((err: Error) => {
      throw new Error(`seed ${seed}: threw ${err.message} on ${JSON.stringify(candidate)}`);
    });
    if (check.ok) assert.is(candidate, token, `seed ${seed}: ${JSON.stringify(candidate)} was granted`);
  }
  assert.ok(tries > 100, `${tries} tries`);
});

t('random Range headers never throw; every range found lies inside the file', () => {
  const seed = fuzzSeed();
  const rng = new Rng(seed);
  const end = Date.now() + SECONDS * 1000;
  const pieces = ['bytes=', 'bytes =', 'BYTES=', '-', ',', ' ', '0', '1', '9', '99999999999999999999', '-1', 'e3', '0x10', '\u0000', ...HOSTILE_STRINGS.slice(0, 10)];
  let tries = 0;
  while (Date.now() < end) {
    tries++;
    const header = Array.from({ length: 1 + rng.int(6) }, () => (rng.chance(0.5) ? String(rng.int(3000)) : rng.pick(pieces))).join('');
    const size = rng.int(3) === 0 ? 0 : rng.int(2000);
    const r = parseRange(header, size);
    if (r && r !== 'unsatisfiable') {
      assert.ok(Number.isInteger(r.start) && Number.isInteger(r.end) && r.start >= 0 && r.start <= r.end && r.end < size, `seed ${seed}: ${JSON.stringify(header)} of ${size} → ${JSON.stringify(r)}`);
    }
  }
  assert.ok(tries > 1000, `${tries} tries`);
});

t.run();
