// A recording that stops while its broadcast goes on (the recorder service closing) says so to the SFU (the
// recorder protocol's `detach`): the room closes the recorder's consumers and plain transports at once, instead of
// sending RTP to nobody until the heartbeat timeout (RECORDER_GONE_MS) notices.
import * as assert from 'uvu/assert';
import { liveSuite, withBroadcast } from '../helpers/live-suite.ts';
import { runningRecorders } from '../../recorder/Recording.ts';
import { RECORDER_GONE_MS } from '../../shared/recorder-protocol.ts';
import { unpublish, until } from '../helpers/webrtc.ts';

const t = liveSuite('recorder detach', { owner: 'Detaching Caster' });

t('a recording stopped while the broadcast is live detaches from the room within a second', async (ctx) => {
  assert.ok(RECORDER_GONE_MS > 1000, 'the heartbeat alone could not have done it');
  const { api } = ctx;
  await withBroadcast(ctx, 'detach-live', async (page) => {
    const room = api.sfu.room('detach-live')!;
    assert.ok(await until(async () => room.recorderAttached, (a) => a, 10_000), 'the recorder attached');
    assert.ok((await until(async () => runningRecorders().length, (n) => n > 0, 10_000)) > 0, 'its FFmpeg records');
    await api.recorder!.close(); // the recorder service closing: it finishes its recordings, the broadcast goes on
    const stoppedAt = Date.now();
    const attached = await until(async () => room.recorderAttached, (a) => !a, 1000);
    assert.is(attached, false, `still attached ${Date.now() - stoppedAt} ms after the recording stopped`);
    assert.ok(!room.isClosed && room.publisherId, 'the broadcast is still live');
    const d = await room.dump();
    assert.is(d.consumers, 0, 'no consumer left for the recorder (and no viewers)');
    assert.equal(runningRecorders(), [], 'no recording FFmpeg left');
    assert.is(await unpublish(page), 200);
  });
});

t.run();
