// Which part may import which, read from the sources: the control plane (api/), the media plane (sfu/) and the
// recorder meet only through shared/ (the bus, the schema, the types), and only server/ (the composition root) joins
// them. Also: no two files import each other, however indirectly (an import circle makes load order matter); and the
// HLS edge (edge/) runs on other runtimes, so it and all it imports stay portable.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const PARTS = ['web', 'api', 'sfu', 'recorder', 'shared', 'server', 'edge'] as const;
type Part = (typeof PARTS)[number];

/** What each part may import besides itself. */
const ALLOWED: Record<Part, readonly Part[]> = {
  shared: [],
  api: ['shared'],
  sfu: ['shared'],
  recorder: ['shared'],
  web: ['shared'],
  server: ['api', 'sfu', 'recorder', 'shared'],
  edge: ['shared'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(p).isDirectory()) return sources(p);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

// static imports and re-exports (`import x from`, `import type x from`, `export * from`, `import 'x'`) and import()
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The repository-relative files a source imports (relative specifiers only: packages are not parts). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (spec.startsWith('.')) out.push(path.normalize(path.join(path.dirname(file), spec)));
  }
  return out;
}

const partOf = (file: string) => PARTS.find((p) => file.startsWith(p + '/'));

const files = PARTS.flatMap((p) => sources(p));
const graph = new Map(files.map((f) => [f, importsOf(f)]));

const t = suite('architecture');

t('the import reader sees static, type-only, re-exported and dynamic imports', () => {
  const found = (text: string) =>
    [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]);
  assert.equal(found("import { a } from './a.ts';\nimport type { B } from '../b.ts';\nexport * from './c.ts';\nconst { D } = await import('./d.ts');\nimport './e.ts';\nimport {\n  f,\n  type G,\n} from './f.ts';"), [
    './a.ts',
    '../b.ts',
    './c.ts',
    './d.ts',
    './e.ts',
    './f.ts',
  ]);
  assert.ok(graph.get('server/embedded.ts')?.includes('sfu/Sfu.ts'), 'server/embedded.ts imports sfu/Sfu.ts');
});

t('each part imports only what it may: shared none of the others, api/sfu/recorder/web only shared, server all', () => {
  const offending: string[] = [];
  for (const [from, imports] of graph) {
    const part = partOf(from)!;
    for (const to of imports) {
      const target = partOf(to);
      if (!target || target === part || ALLOWED[part].includes(target)) continue;
      const line = `${from} → ${to}`;
      offending.push(line);
    }
  }
  assert.equal(offending, [], `imports across parts:\n  ${offending.join('\n  ')}`);
});

t('no import circles between files', () => {
  const circles = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const to of graph.get(f) ?? []) {
      if (!graph.has(to)) continue;
      if (state.get(to) === 'open') circles.add(stack.slice(stack.indexOf(to)).sort().join(' ↔ '));
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  assert.equal([...circles], [], `import circles:\n  ${[...circles].join('\n  ')}`);
});

t('edge/ and everything it imports are portable: no node: modules, Buffer or process (Web APIs only)', () => {
  const reached = new Set<string>();
  const visit = (f: string) => {
    if (reached.has(f) || !graph.has(f)) return;
    reached.add(f);
    for (const to of graph.get(f)!) visit(to);
  };
  for (const f of graph.keys()) if (partOf(f) === 'edge') visit(f);
  assert.ok(reached.has('shared/media-token.ts'), 'the edge checks tokens with shared/media-token.ts');
  const offending = [...reached].filter((f) => {
    const code = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    return /from\s*['"]node:|import\(\s*['"]node:|\bBuffer\.|\bprocess\./.test(code) || [...code.matchAll(IMPORT)].some((m) => !(m[1] ?? m[2] ?? m[3]!).startsWith('.') && !(m[0].includes('import type')));
  });
  assert.equal(offending, [], `not portable:\n  ${offending.join('\n  ')}`);
});

t.run();
