// What a mediasoup failure means to the client who asked (shared by the room and its parts).
import { types as ms } from 'mediasoup';
import { AppError, invalidState, unavailable } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { SdpError } from './sdp.ts';

/**
 * What a mediasoup failure means to the client who asked: parameters mediasoup refuses (its TypeError and
 * UnsupportedError; an SSRC, MID or RID used twice) came from the offer (400); no port or file descriptor left is
 * capacity (503, retry later); a router or transport closed under the request means the broadcast ended; anything
 * else the media plane could not do is a 503 too (logged), since a retry may land on a worker that can.
 */
export function mediaFailure(err: unknown, log: Logger, what: string): AppError {
  if (err instanceof AppError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof TypeError || err instanceof ms.UnsupportedError || /already exists in RTP listener|unsupported codec/i.test(message)) {
    return new SdpError(`The offer was refused: ${message.replace(/\s*\[method:[^\]]*\]$/, '')}`);
  }
  if (err instanceof ms.InvalidStateError || /\bclosed\b/i.test(message)) return invalidState('This broadcast has ended.');
  if (/no more available ports|too many open files|address not available/i.test(message)) {
    log.warn({ err: message, what }, 'media server out of ports');
    return unavailable('The media server has no free ports right now; try again shortly.', 5_000);
  }
  log.error({ err, what }, 'media server failure');
  return unavailable('The media server could not take this session right now; try again shortly.', 5_000);
}
