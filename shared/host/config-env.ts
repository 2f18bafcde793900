// The environment, read for shared/config.ts (its one reader, which parses and checks every setting): the only place
// in the services that touches process.env. Host-specific because the web platform has no process; Deno runs it
// through its Node compatibility (Deno 2 implements the `process` object).

/** The environment variables, as a plain record. */
export const environment = (): Record<string, string | undefined> => ({ ...process.env });
