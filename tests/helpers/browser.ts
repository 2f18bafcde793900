// Debian's Chromium driven by playwright-core, as this machine allows: a persistent context in a fresh profile
// directory, loopback-only networking, and optionally a fake camera and microphone.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export type Browser = { context: BrowserContext; close(): Promise<void> };

/** `args`: extra Chromium switches, e.g. --use-file-for-fake-video-capture=<file.y4m> for a camera showing that file. */
export async function launchBrowser(opts: { fakeMedia?: boolean; args?: string[] } = {}): Promise<Browser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'glint-chromium-'));
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--allow-loopback-in-peer-connection',
    '--disable-features=WebRtcHideLocalIpsWithMdns',
    ...(opts.fakeMedia ? ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] : []),
    ...(opts.args ?? []),
  ];
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, viewport: { width: 1280, height: 800 } });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
