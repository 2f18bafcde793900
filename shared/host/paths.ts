// Where the project's files are on this machine, found from this module so it holds whether the code runs from its
// TypeScript sources (tsx, tests, Deno) or from the bundle `npm start` builds into .build/. Host-specific: a file
// system and package resolution; Deno runs it through its Node compatibility (node:fs, node:path, node:url,
// node:module's createRequire).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'glint') return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find Glint's package.json above ${from}`);
  }
}

export const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));
/** drizzle-kit migrations */
export const SQL_DIR = path.join(ROOT, 'sql');
/** the built browser app */
export const WEB_DIST = path.join(ROOT, 'web', 'dist');

const load = createRequire(import.meta.url);

/** The directory an installed package's files are in (swagger-ui-dist's assets are served from it). */
export const packageDir = (name: string): string => path.dirname(load.resolve(`${name}/package.json`));

/**
 * A CommonJS file of a package, loaded by its path inside the package: for a package whose index loads far more than
 * is used (rate-limiter-flexible's loads every store it supports).
 */
export const loadCommonJs = <T>(specifier: string): T => load(specifier) as T;
