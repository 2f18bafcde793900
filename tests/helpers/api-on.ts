// The API started on a PostgreSQL URL the test controls (behind a proxy it cuts, or a private cluster it restarts):
// no embedded recorder, loose limits, generous chat budgets, its OpenAPI checker loaded.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startApi, type RunningApi } from '../../server/embedded.ts';
import { loadConfig } from '../../shared/config.ts';
import { openDatabase } from '../../shared/db/index.ts';
import { createLogger } from '../../shared/logger.ts';
import { freePort, LOOSE_LIMITS } from './api.ts';
import { OpenApiChecker } from './openapi.ts';

export type ApiOnDatabase = { api: RunningApi; spec: OpenApiChecker; stop(): Promise<void> };

export async function startApiOnDatabase(url: string, env: Record<string, string> = {}): Promise<ApiOnDatabase> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'glint-test-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.GLINT_TEST_LOG ?? 'silent',
    RTMP_PORT: '0',
    RTC_PORT: '0',
    RECORDER_EMBEDDED: 'false',
    ...LOOSE_LIMITS,
    CHAT_USER_MESSAGES: '10000',
    CHAT_ADDRESS_MESSAGES: '10000',
    DATABASE_URL: url,
    ...env,
  });
  const database = await openDatabase({ url });
  const api = await startApi(config, { database, log: createLogger(config.logLevel) });
  return {
    api,
    spec: await OpenApiChecker.load(api.url),
    stop: async () => {
      await api.close();
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Collects what would reject or throw into nowhere while a fault lasts; `stop()` puts the process's handlers back. */
export function catchEscapes(): { escaped: unknown[]; stop(): void } {
  const escaped: unknown[] = [];
  const handler = (err: unknown) => escaped.push(err);
  process.on('unhandledRejection', handler);
  process.on('uncaughtException', handler);
  return {
    escaped,
    stop: () => {
      process.off('unhandledRejection', handler);
      process.off('uncaughtException', handler);
    },
  };
}
