// Which part may import which, read from the sources: the control plane (api/), the media plane (sfu/) and the
// recorder and the transcoder meet only through shared/ (the bus, the schema, the job queue, the types), and only server/ (the composition root) joins
// them. Also: no two files import each other, however indirectly (an import circle makes load order matter). That the
// control plane and the HLS edge (edge/) stay portable is tests/portable.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { importsOf, sources, specifiersIn } from './source-reader.ts';

const PARTS = ['web', 'api', 'sfu', 'recorder', 'transcoder', 'shared', 'server', 'edge'] as const;
type Part = (typeof PARTS)[number];

/** What each part may import besides itself. */
const ALLOWED: Record<Part, readonly Part[]> = {
  shared: [],
  api: ['shared'],
  sfu: ['shared'],
  recorder: ['shared'],
  transcoder: ['shared'],
  web: ['shared'],
  server: ['api', 'sfu', 'recorder', 'transcoder', 'shared'],
  edge: ['shared'],
};

const partOf = (file: string) => PARTS.find((p) => file.startsWith(p + '/'));

const files = PARTS.flatMap((p) => sources(p));
const graph = new Map(files.map((f) => [f, importsOf(f)]));

const t = suite('architecture');

t('the import reader sees static, type-only, re-exported and dynamic imports', () => {
  assert.equal(specifiersIn("import { a } from './a.ts';\nimport type { B } from '../b.ts';\nexport * from './c.ts';\nconst { D } = await import('./d.ts');\nimport './e.ts';\nimport {\n  f,\n  type G,\n} from './f.ts';"), [
    './a.ts',
    '../b.ts',
    './c.ts',
    './d.ts',
    './e.ts',
    './f.ts',
  ]);
  assert.ok(graph.get('server/embedded.ts')?.includes('sfu/Sfu.ts'), 'server/embedded.ts imports sfu/Sfu.ts');
});

t('each part imports only what it may: shared none of the others, api/sfu/recorder/transcoder/web only shared, server all', () => {
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

t.run();
