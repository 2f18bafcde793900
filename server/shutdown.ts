// How a Node service ends on SIGINT/SIGTERM: say so, close its parts in order, exit 0 (1 when closing failed).
import type { Logger } from '../shared/logger.ts';

export function closeOnSignals(log: Logger, what: string, close: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info({ signal }, what);
      close().then(() => process.exit(0), (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
    });
  }
}
