// Where the project's files are, found from this module so it holds whether the code runs from its TypeScript
// sources (tsx, tests) or from the bundle `npm start` builds into .build/.
import { existsSync, readFileSync } from 'node:fs';
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
