// s3rver (an S3-protocol server from npm) ships no types; the tests use this much of it.
declare module 's3rver' {
  export default class S3rver {
    constructor(opts: { port?: number; address?: string; directory: string; silent?: boolean; configureBuckets?: { name: string }[] });
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}
