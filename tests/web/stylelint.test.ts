// The stylesheet as stylelint (stylelint.config.mjs) reads it: web/src/style.css and every web/src/styles/*.css
// without an error, every part imported once, and the kinds of breakage that once left a third of the app unstyled
// without any test noticing (a rule never closed, a rule swallowed by the one above it) reported.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import stylelint from 'stylelint';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const configFile = path.join(root, 'stylelint.config.mjs');
const entry = path.join(root, 'web/src/style.css');
const partsDir = path.join(root, 'web/src/styles');

/** One line per problem: `file:line:column rule — text`. */
function problems(results: stylelint.LintResult[]): string[] {
  return results.flatMap((r) => [
    ...r.warnings.map((w) => `${path.relative(root, r.source ?? '<code>')}:${w.line}:${w.column} ${w.rule} — ${w.text}`),
    ...(r.invalidOptionWarnings ?? []).map((w) => `${path.relative(root, r.source ?? '<code>')}: invalid option — ${w.text}`),
  ]);
}

/** Lints a snippet of CSS with the repository's config, as if it were one of the sheet's files. */
async function lintCode(code: string): Promise<string[]> {
  const { results } = await stylelint.lint({ code, codeFilename: path.join(partsDir, 'snippet.css'), configFile });
  return problems(results);
}

const t = suite('stylesheet (stylelint)');

t('web/src/style.css and web/src/styles/*.css have no stylelint problem', async () => {
  const files = [entry, ...(await readdir(partsDir)).filter((f) => f.endsWith('.css')).map((f) => path.join(partsDir, f))];
  const { results } = await stylelint.lint({ files, configFile });
  assert.is(results.length, files.length, 'every file linted');
  const found = problems(results);
  assert.equal(found, [], `stylelint found ${found.length} problem(s):\n${found.join('\n')}`);
});

t('style.css imports every part in web/src/styles/ exactly once, and nothing else', async () => {
  const imports = [...(await readFile(entry, 'utf8')).matchAll(/@import\s+["']\.\/styles\/([^"']+)["']/g)].map((m) => m[1]);
  const parts = (await readdir(partsDir)).filter((f) => f.endsWith('.css')).sort();
  const duplicated = imports.filter((f, i) => imports.indexOf(f) !== i);
  assert.equal(duplicated, [], `imported twice: ${duplicated.join(', ')}`);
  assert.equal([...imports].sort(), parts, 'the imports are the files of web/src/styles/');
});

t('a rule left open (`.x {` to the end of the file) is reported', async () => {
  const found = await lintCode('.x {\n  color: red;\n\n.y {\n  color: blue;\n}\n');
  assert.ok(
    found.some((p) => /CssSyntaxError/.test(p) && /Unclosed block/.test(p)),
    `expected an "Unclosed block" syntax error, got:\n${found.join('\n')}`,
  );
});

t('a rule swallowed by an unclosed one above it (nesting) is reported at its line', async () => {
  // `.bell-list {` never closed; a later stray `}` makes the file parse, with `.chat` nested inside it
  const found = await lintCode('.bell-list {\n  padding: 0;\n.chat {\n  color: red;\n}\n}\n');
  assert.ok(found.some((p) => /:3:1 max-nesting-depth/.test(p)), `expected max-nesting-depth at 3:1, got:\n${found.join('\n')}`);
  // rules inside @media are not nesting
  assert.equal(await lintCode('@media (min-width: 40rem) {\n  .a {\n    color: red;\n  }\n}\n'), []);
});

t('unknown properties and values, and duplicate selectors, are reported', async () => {
  const found = await lintCode('.a {\n  colr: red;\n  width: 12 px;\n}\n.b {\n  color: red;\n}\n.b {\n  margin: 0;\n}\n');
  for (const rule of ['property-no-unknown', 'declaration-property-value-no-unknown', 'no-duplicate-selectors']) {
    assert.ok(found.some((p) => p.includes(rule)), `expected ${rule}, got:\n${found.join('\n')}`);
  }
});

t.run();
