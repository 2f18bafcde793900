// The process the portable code runs in: its id, cores and exit (its environment: config-env.ts). Host-specific
// because the web platform has no process; Deno runs this module through its Node compatibility (Deno 2 implements
// node:os and the `process` object), so Node and Deno share it unchanged.
import os from 'node:os';

/** This process's id (every log line carries it). */
export const pid = (): number => process.pid;

/** Ends the process with `code` (an entry point that cannot start). */
export const exit = (code: number): never => process.exit(code);

/** How many threads of work the machine runs at once (mediasoup workers default to one per core). */
export const cores = (): number => os.availableParallelism();

/** Lets the process end while `timer` is pending (a background poll must not keep a closing process alive). */
export function unrefTimer(timer: ReturnType<typeof setTimeout> | ReturnType<typeof setInterval>): void {
  (timer as { unref?: () => void }).unref?.();
}
