// Reading the repository's TypeScript sources as text, for the tests that hold rules about them (which part may
// import which: architecture.test.ts; which code stays portable to Deno: portable.test.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The .ts/.tsx files under `dir` (no declaration files, nothing under node_modules or dist). */
export function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(p).isDirectory()) return sources(p);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

// static imports and re-exports (`import x from`, `import type x from`, `export * from`, `import 'x'`) and import()
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Source text without its comments (crudely: a `//` inside a string that follows a quote or colon is kept). */
export const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

/** Every module specifier a source's text imports or re-exports, in order, packages and relative ones alike. */
export const specifiersIn = (text: string): string[] => [...withoutComments(text).matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]!);

/** The repository-relative files a source imports (relative specifiers only: packages are not parts). */
export function importsOf(file: string): string[] {
  return specifiersIn(readFileSync(file, 'utf8'))
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => path.normalize(path.join(path.dirname(file), spec)));
}

// characters after which a `/` starts a regular expression rather than dividing
const BEFORE_REGEX = new Set([...'(,=:[!&|?{};+-*%<>~^', '']);

/**
 * The code of a source with comments removed and the text of string, template and regular-expression literals
 * blanked (a template's `${…}` expressions are kept: they are code), so identifiers can be matched in what runs.
 */
export function codeOnly(text: string): string {
  let out = '';
  let last = ''; // the last significant character written, to tell a regular expression from a division
  let lastWord = ''; // the word being written or last written
  let inWord = false;
  const templates: number[] = []; // brace depth at each open `${` of an enclosing template
  let depth = 0;
  let i = 0;
  const template = () => {
    // from after a backquote or a `}` closing an expression, to the closing backquote or the next `${`
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '\\') i += 2;
      else if (ch === '`') {
        i++;
        out += '`';
        return;
      } else if (ch === '$' && text[i + 1] === '{') {
        i += 2;
        out += '${';
        templates.push(depth++);
        return;
      } else i++;
    }
  };
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    const wasInWord = inWord;
    inWord = false;
    if (ch === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      out += ' ';
    } else if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== ch && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      i = j + 1;
      out += ch + ch;
      last = ch;
    } else if (ch === '`') {
      i++;
      out += '`';
      template();
      last = '`';
    } else if (ch === '}' && templates.length && templates.at(-1) === depth - 1) {
      templates.pop();
      depth--;
      i++;
      out += '}';
      template();
      last = '`';
    } else if (ch === '/' && (BEFORE_REGEX.has(last) || ['return', 'typeof', 'case', 'in', 'of'].includes(lastWord))) {
      let j = i + 1;
      let inClass = false;
      while (j < text.length && text[j] !== '\n' && (inClass || text[j] !== '/')) {
        if (text[j] === '\\') j++;
        else if (text[j] === '[') inClass = true;
        else if (text[j] === ']') inClass = false;
        j++;
      }
      i = j + 1;
      while (/[a-z]/i.test(text[i] ?? '')) i++;
      out += '/./';
      last = '/';
    } else {
      if (ch === '{') depth++;
      else if (ch === '}') depth--;
      out += ch;
      i++;
      const word = /[\w$]/.test(ch);
      if (word) {
        lastWord = wasInWord ? lastWord + ch : ch;
        last = 'a';
      } else if (!/\s/.test(ch)) {
        lastWord = '';
        last = ch;
      }
      inWord = word;
    }
  }
  return out;
}
