// The control plane's code is portable: it runs on Node and on Deno 2 alike because it uses web standards (fetch,
// crypto.subtle, streams, TextEncoder) and asks the machine it runs on for the rest through one adapter,
// shared/host/. Read from the sources: a portable file importing a Node-only module, or using Node's globals, fails
// here; the adapter may import only the node: modules Deno implements.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { codeOnly, importsOf, sources, specifiersIn } from './source-reader.ts';

/** What the portable code asks of its machine (env, files, child processes, sockets): the one place for node: imports. */
const HOST = 'shared/host/';

/** shared/ modules only the media plane imports (sfu/, recorder/, server/recorder.ts): they run on Node only. */
const MEDIA_PLANE: Record<string, string> = {
  'shared/ffmpeg.ts': 'runs FFmpeg (node:child_process) for the RTMP bridge and the recorder',
  'shared/children.ts': "kills FFmpeg children at the process's exit (process.once('exit'))",
};

/** Control-plane code that stays on Node's APIs by decision, run under Deno's Node compatibility. */
const NODE_BY_DECISION: Record<string, string> = {
  'api/chat/server.ts': "Socket.IO's server attaches to a node:http server; under Deno it runs through the Node compatibility",
};

/** The node: modules shared/host/ may use: each is one Deno 2 implements (https://docs.deno.com/api/node/). */
const HOST_MAY_IMPORT = [
  'node:async_hooks',
  'node:child_process',
  'node:crypto',
  'node:dns',
  'node:dns/promises',
  'node:fs',
  'node:fs/promises',
  'node:http',
  'node:https',
  'node:module',
  'node:net',
  'node:os',
  'node:path',
  'node:stream',
  'node:url',
];

/** Node's globals that Deno does not give to a program's own modules (or gives only for npm packages). */
const NODE_GLOBALS = ['process', 'Buffer', 'global', 'require', '__dirname', '__filename', 'setImmediate', 'clearImmediate', 'NodeJS'];
const NODE_GLOBAL = new RegExp(`(?<![\\w$.])(?:${NODE_GLOBALS.join('|')})(?![\\w$])`, 'g');

const BUILTINS = new Set(builtinModules);

/** Why a module specifier is Node-only, or undefined when it is not. Type-only imports count: none is needed. */
function nodeOnly(spec: string): string | undefined {
  if (spec.startsWith('node:')) return 'a node: module';
  if (BUILTINS.has(spec)) return "a Node built-in (as a bare name)";
  if (spec === '@hono/node-server' || spec.startsWith('@hono/node-server/')) return "Hono's Node server adapter";
  return undefined;
}

/** Everything a source does that ties it to Node: its Node-only imports, and its uses of Node's globals. */
function nodeUses(text: string): string[] {
  const imports = specifiersIn(text).flatMap((spec) => {
    const why = nodeOnly(spec);
    return why ? [`imports ${spec} (${why})`] : [];
  });
  const globals = [...new Set([...codeOnly(text).matchAll(NODE_GLOBAL)].map((m) => m[0]))].map((g) => `uses the global ${g}`);
  return [...imports, ...globals];
}

const excluded = { ...MEDIA_PLANE, ...NODE_BY_DECISION };
/** The control plane's wiring in server/: the rest of server/ are the runtimes' own entries (Node, Deno, the media plane). */
const PORTABLE_WIRING = ['server/api.ts', 'server/listening.ts'];
const controlPlane = [...sources('api'), ...sources('shared'), ...sources('edge'), ...PORTABLE_WIRING];
const host = controlPlane.filter((f) => f.startsWith(HOST));
const portable = controlPlane.filter((f) => !f.startsWith(HOST) && !(f in excluded));

const t = suite('portable control plane');

t('the reader catches Node-only imports of every form and Node globals in code, not in comments or strings', () => {
  const sample = [
    "import { readFile } from 'node:fs/promises';",
    "import type { IncomingMessage } from 'node:http';",
    "import path from 'path';",
    "export * from 'node:os';",
    "const zlib = await import('node:zlib');",
    "import { serveStatic } from '@hono/node-server/serve-static';",
    "import { z } from 'zod';",
    'const key = Buffer.from(secret, "base64");',
    'const url = `${process.env.HOME}/x`;',
    '// process.exit(1) in a comment',
    "const said = 'process.env and Buffer in a string';",
    'const re = /process|Buffer/g, half = 1 / 2;',
    'const { process: proc } = task; task.process(); thing.Buffer;',
  ].join('\n');
  assert.equal(nodeUses(sample), [
    'imports node:fs/promises (a node: module)',
    'imports node:http (a node: module)',
    'imports path (a Node built-in (as a bare name))',
    'imports node:os (a node: module)',
    'imports node:zlib (a node: module)',
    "imports @hono/node-server/serve-static (Hono's Node server adapter)",
    'uses the global Buffer',
    'uses the global process',
  ]);
  assert.equal(nodeUses('setImmediate(() => undefined); let s: NodeJS.Timeout;'), ['uses the global setImmediate', 'uses the global NodeJS']);
  assert.equal(nodeUses("const t = `a ${'b'} c`; const n = `${x}`.length / 2; return /a'b/.test(s);"), [], 'quotes inside templates and regexps do not open strings');
  assert.ok(portable.includes('api/app.ts') && portable.includes('shared/config.ts') && portable.includes('shared/db/index.ts'), 'the portable part is read');
});

t('each file left out of the portable part exists and is named with its reason', () => {
  for (const [file, why] of Object.entries(excluded)) {
    assert.ok(existsSync(file), `${file} is listed but does not exist`);
    assert.ok(why.length > 10, `${file} needs its reason`);
  }
});

t('no portable file imports a media-plane-only module', () => {
  const offending = portable.flatMap((f) => importsOf(f).filter((to) => to in MEDIA_PLANE).map((to) => `${f} → ${to}`));
  assert.equal(offending, [], `portable files importing media-plane modules:\n  ${offending.join('\n  ')}`);
});

t('portable files import no node: module, Node built-in or @hono/node-server, and use no Node global', () => {
  const offending = portable.flatMap((f) => nodeUses(readFileSync(f, 'utf8')).map((use) => `${f} ${use}`));
  assert.equal(offending, [], `Node-only code in the portable part (use a web standard, or shared/host/):\n  ${offending.join('\n  ')}`);
});

t('shared/host/ imports only node: modules Deno implements, and says why each file is host-specific', () => {
  assert.ok(host.length > 0, 'the host adapter exists');
  const offending: string[] = [];
  for (const f of host) {
    const text = readFileSync(f, 'utf8');
    for (const spec of specifiersIn(text)) {
      if (nodeOnly(spec) && !HOST_MAY_IMPORT.includes(spec)) offending.push(`${f} imports ${spec}`);
    }
    if (!/^\/\/[^\n]*(\n\/\/[^\n]*)*Deno/.test(text)) offending.push(`${f} does not open with a comment saying why it is host-specific and how Deno runs it`);
  }
  assert.equal(offending, [], offending.join('\n'));
});

t.run();
