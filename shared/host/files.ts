// Files on this machine's disk: the generated auth secret, the embedded database's marker, and files served as they
// are (the web app's assets, swagger-ui's). Host-specific because the web platform has no file system; Deno runs this
// module through its Node compatibility (Deno 2 implements node:fs, node:fs/promises, node:path and node:stream).
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';

/** Paths joined and normalized (`a/b/../c` → `a/c`). */
export const joinPath = (...segments: string[]): string => path.join(...segments);

/** An absolute path from the working directory and `segments` (a relative DATA_DIR is relative to where Glint runs). */
export const resolvePath = (...segments: string[]): string => path.resolve(...segments);

export const readText = (file: string): Promise<string> => readFile(file, 'utf8');

/** Writes `text` to `file`, creating its directory; `mode` for a secret (0o600). */
export async function writeText(file: string, text: string, mode?: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text, mode === undefined ? undefined : { mode });
}

export const makeDir = async (dir: string): Promise<void> => void (await mkdir(dir, { recursive: true }));

/** When `file` last changed (ms since the epoch); undefined when it does not exist. */
export async function modifiedAt(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return undefined;
  }
}

export async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch {
    return false;
  }
}

/** A regular file to send as it is: its size, last change, and its bytes (or some, inclusive) as a web stream. */
export type FileToSend = { size: number; modified: Date; open: (part?: { start: number; end: number }) => ReadableStream<Uint8Array> };

/** The regular file at `file`, or undefined when there is none (missing, or a directory). */
export async function fileToSend(file: string): Promise<FileToSend | undefined> {
  try {
    const s = await stat(file);
    if (!s.isFile()) return undefined;
    return { size: s.size, modified: s.mtime, open: (part) => Readable.toWeb(createReadStream(file, part)) as ReadableStream<Uint8Array> };
  } catch {
    return undefined;
  }
}
