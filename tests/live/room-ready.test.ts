// A broadcast is live to viewers only once every one of its tracks is set up: a viewer who arrived while the
// publisher's producers were still being created used to get consumers for some of them only (audio, no video, for
// the whole session), and the RTMP suite saw the room "live" with no codecs on a loaded CI machine.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AppError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { Room, type RoomSettings } from '../../sfu/Room.ts';
import { parseOffer } from '../../sfu/sdp.ts';
import { WorkerPool } from '../../sfu/WorkerPool.ts';
import { whepOffer } from '../helpers/whep-offer.ts';

const log = createLogger('silent');
const SETTINGS: RoomSettings = { listenIp: '127.0.0.1', publishGraceMs: 0, viewersPerWorker: 10, maxNumberings: 1 };
const TRACKS = [
  { kind: 'audio' as const, codec: { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }, ssrc: 1111 },
  { kind: 'video' as const, codec: { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }, ssrc: 2222 },
];

const t = suite<{ pool: WorkerPool }>('Room readiness');
t.before(async (ctx) => {
  ctx.pool = await WorkerPool.create({ count: 1, port: 0, minPort: 46_200, maxPort: 46_299, listenIp: '127.0.0.1', announcedIp: undefined, log });
});
t.after((ctx) => ctx.pool?.close());

const status = (e: unknown) => (e instanceof AppError ? e.status : String(e));

t('while a publisher’s tracks are being set up: not live to viewers, but a second publisher is refused; then live with every codec', async ({ pool }) => {
  const room = new Room('ch-ready', 'ready', await pool.createRouter(), pool, SETTINGS, log);
  try {
    const publishing = room.publishPlain(TRACKS); // its transports and producers are created across several awaits
    assert.is(room.hasPublisher, true, 'the publisher holds the room');
    assert.is(room.publisherId, undefined, 'not live yet');
    assert.equal(room.codecs, [], 'no codecs announced yet');
    assert.is(room.source, undefined, 'an edge gets nothing to pipe yet');
    const viewing = await room.view(parseOffer(whepOffer())).then(() => 'seated', status);
    assert.is(viewing, 404, 'a viewer arriving now is told there is no live broadcast yet (the player retries), not half of one');
    const second = await room.publishPlain(TRACKS).then(() => 'accepted', status);
    assert.is(second, 409, 'a second publisher is refused meanwhile');
    const { sessionId } = await publishing;
    assert.ok(room.publisherId, 'live once every producer exists');
    assert.equal(room.codecs.sort(), ['audio/opus', 'video/VP8']);
    assert.ok(sessionId);
    assert.equal((await room.dump()).producers, 2);
  } finally {
    room.close();
  }
});

t.run();
