// The async context the process started in, outside every request and operation: for work that must not inherit a
// caller's context (better-auth reads its operation in progress from AsyncLocalStorage). Host-specific: Deno
// implements node:async_hooks' AsyncLocalStorage, snapshot() included.
import { AsyncLocalStorage } from 'node:async_hooks';

/** Runs `fn` in the context of this module's loading: no request's, no operation's. */
export const outsideEverything: <R>(fn: () => R) => R = AsyncLocalStorage.snapshot();
