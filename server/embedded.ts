// The embedded whole on Node: the control plane (server/api.ts) with the SFU and (unless it runs as its own service)
// the recorder in this process — or, with SFU_URL, the API alone, forwarding WHIP/WHEP to the SFU service — served
// over HTTP with chat on the same server. Used by main.ts and the tests.
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from '../shared/config.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import type { SearchSync } from '../shared/search/SearchSync.ts';
import { Chat } from '../api/chat/server.ts';
import { admitViewer } from '../api/entitlements.ts';
import type { Jobs } from '../shared/jobs.ts';
import type { Deps } from '../api/context.ts';
import { sfuProxy } from '../api/sfu-proxy.ts';
import { Sfu } from '../sfu/Sfu.ts';
import { Recorder } from '../recorder/Recorder.ts';
import { Transcoder } from '../transcoder/Transcoder.ts';
import { openControlPlane, type ControlPlaneOptions } from './api.ts';
import { listeningUrl } from './listening.ts';

export type RunningApi = {
  url: string;
  deps: Deps;
  /** the SFU in this process (undefined with SFU_URL: it runs as its own service) */
  sfu: Sfu;
  recorder: Recorder | undefined;
  /** the VoD transcoder running 'vod.transcode' jobs here (undefined with TRANSCODE_IN_API=false: a worker does) */
  transcoder: Transcoder | undefined;
  chat: Chat;
  jobs: Jobs;
  searchSync: SearchSync;
  close(): Promise<void>;
};

/** As the control plane's, the logger made from config when none is given. */
export type StartOptions = Omit<ControlPlaneOptions, 'log'> & { log?: Logger };

export async function startApi(config: Config, opts: StartOptions = {}): Promise<RunningApi> {
  const log = (opts.log ?? createLogger(config.logLevel)).child({ svc: 'api' });
  const plane = await openControlPlane(config, { log, database: opts.database, pgliteInMemory: opts.pgliteInMemory });
  const { deps } = plane;
  const db = deps.database.db;
  // On embedded defaults the SFU runs in this process; it meets the API only through the bus and its HTTP routes.
  const sfu = deps.sfuNodes ? undefined : await Sfu.create({ config, db, bus: deps.bus, log: log.child({ svc: 'sfu' }), admitViewer: (req, channelId) => admitViewer(deps, req, channelId) });
  // so does the recorder (unless it runs as its own service): it hears broadcasts start and end on the bus and asks
  // the SFU for their media there
  const recorder = config.recorder.embedded && sfu ? await Recorder.create({ config, db, bus: deps.bus, store: deps.store, log: log.child({ svc: 'recorder' }) }) : undefined;
  // so does the transcoder (unless TRANSCODE_IN_API=false leaves it to `npm run worker`): its FFmpeg runs niced
  const transcoder = config.transcode.inApi ? new Transcoder({ config, db, bus: deps.bus, store: deps.store, uploads: deps.uploads.store, log: log.child({ svc: 'transcoder' }) }) : undefined;
  transcoder?.define(plane.jobs);
  const app = plane.app([sfu ? sfu.app : sfuProxy()]);

  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
    s.once('error', reject);
  });
  // chat (Socket.IO) shares the API's HTTP server and origin
  const chat = await Chat.create(server as HttpServer, deps);
  plane.startJobs(chat.push);
  const url = listeningUrl(config.host, (server.address() as AddressInfo).port);
  log.info({ url, database: deps.database.kind, bus: deps.bus.kind, sfu: config.sfuUrl ?? 'in process' }, 'api listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    deps,
    sfu: sfu as Sfu,
    recorder,
    transcoder,
    chat,
    jobs: plane.jobs,
    searchSync: plane.searchSync,
    close: () =>
      (closing ??= (async () => {
        await chat.close(); // disconnects every chat client (and stops the HTTP server)
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        });
        await transcoder?.close(); // its FFmpeg children killed; the jobs come back to a process that runs them
        await recorder?.close();
        await sfu?.close();
        await plane.close();
      })()),
  };
}
