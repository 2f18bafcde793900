// Uploads a file with tus-js-client from Node, as a browser would (the API's own tus endpoint, /api/uploads).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tus from 'tus-js-client';
import type { Client } from './api.ts';

export type Sent = { url: string | null; vodId: string | null; status?: number; body?: string; offsets: number[] };

/**
 * Uploads `file` with tus-js-client as `as` (no cookie when null) to `channel`. `abortAt`: stops after that many bytes
 * were accepted (the promise then resolves with the URL); `url` resumes an upload.
 */
export function send(base: string, as: Client | null, file: string, opts: { channel: string; chunkSize?: number; abortAt?: number; url?: string; filename?: string; title?: string }): Promise<Sent> {
  return readFile(file).then(
    (bytes) =>
      new Promise<Sent>((resolve) => {
        const sent: Sent = { url: null, vodId: null, offsets: [] };
        const headers: Record<string, string> = { origin: base };
        if (as?.cookies.size) headers.cookie = [...as.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        const up = new tus.Upload(bytes, {
          endpoint: `${base}/api/uploads`,
          uploadUrl: opts.url,
          chunkSize: opts.chunkSize ?? 64 * 1024,
          retryDelays: [],
          headers,
          metadata: { channel: opts.channel, filename: opts.filename ?? path.basename(file), ...(opts.title ? { title: opts.title } : {}) },
          onBeforeRequest: (req) => {
            if (req.getMethod() === 'PATCH') sent.offsets.push(Number(req.getHeader('Upload-Offset')));
          },
          onAfterResponse: (_req, res) => {
            const id = res.getHeader('Glint-Vod-Id');
            if (id) sent.vodId = id;
          },
          onChunkComplete: (_size, accepted) => {
            if (opts.abortAt !== undefined && accepted >= opts.abortAt) {
              sent.url = up.url;
              void up.abort().then(() => resolve(sent));
            }
          },
          onSuccess: () => {
            sent.url = up.url;
            sent.status = 204;
            resolve(sent);
          },
          onError: (err) => {
            const res = (err as tus.DetailedError).originalResponse;
            sent.url = up.url;
            sent.status = res?.getStatus();
            sent.body = res?.getBody();
            resolve(sent);
          },
        });
        up.start();
      }),
  );
}

