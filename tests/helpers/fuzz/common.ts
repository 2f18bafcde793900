// What every fuzzer shares: a seeded PRNG (so a failure reproduces from the printed seed), the time budget knob,
// hostile values (strings, numbers, shapes), a logger that keeps its lines for the test to inspect, and a watch on
// the process for crashes, unhandled rejections and memory.
import v8 from 'node:v8';
import vm from 'node:vm';
import { catchEscapes } from '../api-on.ts';
import { capturingLogger as capture, type LogLine } from '../log.ts';

/** Seconds each parser is fuzzed for: GLINT_FUZZ_SECONDS, or `fallback` (chosen so tests/fuzz/ stays near a minute). */
export function fuzzSeconds(fallback: number): number {
  const raw = process.env.GLINT_FUZZ_SECONDS;
  const n = raw ? Number(raw) : fallback;
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** GLINT_FUZZ_SEED reproduces a run; otherwise a fresh seed, printed by whoever reports. */
export function fuzzSeed(): number {
  const raw = process.env.GLINT_FUZZ_SEED;
  return raw ? Number(raw) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

/** Strings that break naive code: encodings, control characters, bidi tricks, injection-shaped text, sizes. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  'x\ud83dy', // half an emoji
  '\u202eevil\u202c', // RTL override
  '\u200b\u200d\ufeff', // zero width, BOM
  'e\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301', // combining marks
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
  '👩‍👩‍👧‍👦🏳️‍🌈🇺🇦',
  '\r\n\r\nX-Injected: 1',
  '../../../../etc/passwd',
  '%00%2e%2e%2f',
  "'; DROP TABLE channel; --",
  '<script>alert(1)</script>',
  '${{7*7}}{{constructor.constructor("return process")()}}',
  '__proto__',
  'constructor',
  'prototype',
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  '0x1F',
  'true',
  'null',
  'undefined',
  '[]',
  '{}',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '2024-02-30T25:61:61Z', // well-formed, impossible
  '0000-00-00T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '+275760-09-13T00:00:00.001Z', // one past the largest JS date
  '-271821-04-20T00:00:00.000Z',
  '1970-01-01',
  'http://127.0.0.1:22/',
  'http://[::1]/',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'a'.repeat(65),
  'a'.repeat(256),
  '\u{10FFFF}',
  '\uFFFE\uFFFF',
  '\x1b[31mred',
];

export const HOSTILE_NUMBERS: readonly unknown[] = [
  0, -0, -1, 1, 0.5, -0.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER, 1e21,
  'NaN', 'Infinity', '-Infinity', '1e308', '-1e308', '1e309', '0x10', '1_000', ' 1 ', '1.', '.1', '--1', '',
];

/** One hostile string: from the list, random code units, or big (up to `maxBytes`, near and above the body cap). */
export function hostileString(rng: Rng, maxBytes = 4096): string {
  const r = rng.next();
  if (r < 0.55) return rng.pick(HOSTILE_STRINGS);
  if (r < 0.8) {
    const n = 1 + rng.int(40);
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(rng.chance(0.3) ? rng.int(0x20) : rng.chance(0.2) ? 0xd800 + rng.int(0x800) : rng.int(0xffff));
    return s;
  }
  const size = rng.pick([maxBytes - 64, maxBytes - 1, maxBytes, maxBytes + 1, maxBytes * 2, 1024, 8 * 1024]);
  return rng.pick(['a', '😀', '\u0000', 'é', ' ']).repeat(Math.max(1, Math.floor(size / 2)));
}

/** Text of `depth` nested arrays or objects: 10k levels, written out directly (no recursion on our side). */
export function deepJsonText(depth: number, kind: 'array' | 'object' = 'array'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** A value of a random wrong shape. */
export function hostileValue(rng: Rng, depth = 0): unknown {
  const r = rng.int(10);
  switch (r) {
    case 0:
    case 1:
      return hostileString(rng);
    case 2:
    case 3:
      return rng.pick(HOSTILE_NUMBERS);
    case 4:
      return rng.pick([true, false, null]);
    case 5:
      return depth > 3 ? [] : Array.from({ length: rng.int(4) }, () => hostileValue(rng, depth + 1));
    case 6:
      return depth > 3 ? {} : Object.fromEntries(Array.from({ length: rng.int(4) }, () => [hostileString(rng, 64), hostileValue(rng, depth + 1)]));
    case 7:
      return JSON.parse('{"__proto__":{"polluted":true,"isAdmin":true,"role":"admin"},"constructor":{"prototype":{"polluted":true}}}');
    case 8:
      return Array.from({ length: rng.pick([100, 1000, 5000]) }, (_, i) => i);
    default:
      return { toString: 'x', valueOf: 1, length: -1, then: 'x' };
  }
}

export type { LogLine };

/** The shared capturing logger (tests/helpers/log.ts), at warn and above with a bound for long runs. */
export const capturingLogger = (level = 'warn', keep = 2000) => capture(level, keep);

/** Error-level log lines, one per distinct message and first stack frame, with the request that caused each. */
export function distinctErrors(lines: LogLine[], max = 12): string[] {
  const seen = new Map<string, string>();
  for (const l of lines) {
    const stack = l.err?.stack ?? '';
    // ids, ssrcs and other numbers vary between occurrences of one defect
    const key = `${l.msg} ${stack.split('\n').slice(0, 2).join(' ')}`.replace(/[0-9a-f-]{8,}|\d+/gi, 'N');
    // the first frames, and the database's own words (pino puts an error's cause at the end of its stack)
    const shown = stack.split('\n').filter((line, i) => i < 6 || /caused by/.test(line));
    if (!seen.has(key)) seen.set(key, `  ${l.msg}${l.method ? ` ${l.method} ${JSON.stringify(l.path)}` : ''}: ${shown.join('\n      ')}`);
  }
  return [...seen.values()].slice(0, max);
}

/**
 * Collects what the process must never see while a fuzzer runs: unhandled rejections and uncaught exceptions
 * (with the listener installed, Node keeps running, so the test can report them instead of dying mid-run).
 */
export function watchProcess(): { readonly problems: string[]; stop(): void } {
  const { escaped, stop } = catchEscapes();
  return {
    get problems() {
      return escaped.map((e) => `escaped: ${(e as Error)?.stack ?? String(e)}`);
    },
    stop,
  };
}

export type Memory = { rss: number; heapUsed: number };
export const memory = (): Memory => {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
};
export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * The collector, although the runner does not pass --expose-gc: the flag can still be set at run time and `gc`
 * taken from a fresh context. Undefined where that is refused (then the memory margins stay generous).
 */
const gc: (() => void) | undefined = (() => {
  try {
    v8.setFlagsFromString('--expose_gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
})();

/**
 * Memory once timers and sockets settled: collected (see `gc`) before each of a few samples, keeping the lowest
 * heap, so before/after compare what is still reachable rather than what the collector has not got to yet.
 */
export async function settledMemory(samples = 4, gapMs = 300): Promise<Memory> {
  let best: Memory | undefined;
  for (let i = 0; i < samples; i++) {
    await new Promise((r) => setTimeout(r, gapMs));
    gc?.();
    const m = memory();
    if (!best || m.heapUsed < best.heapUsed) best = m;
  }
  return best!;
}

/** What a fuzzer reports: cases run, time, and the failures (each reproducible from the seed and its request). */
export type FuzzReport = { parser: string; seed: number; cases: number; seconds: number; failures: string[]; before: Memory; after: Memory };

export function describe(r: FuzzReport): string {
  return `${r.parser}: ${r.cases} cases in ${r.seconds.toFixed(1)} s (${(r.cases / r.seconds).toFixed(0)}/s), seed ${r.seed} (GLINT_FUZZ_SEED=${r.seed} reproduces), RSS ${mib(r.before.rss)} → ${mib(r.after.rss)}, heap ${mib(r.before.heapUsed)} → ${mib(r.after.heapUsed)}`;
}

/** A short, printable form of a payload for a failure message. */
export function preview(value: unknown, max = 400): string {
  let s: string;
  try {
    s = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    s = String(value);
  }
  s ??= String(value);
  return s.length > max ? `${JSON.stringify(s.slice(0, max))}… (${s.length} chars)` : JSON.stringify(s);
}
