// A recording FFmpeg that falls behind (a loaded machine: here it is stopped with SIGSTOP for the broadcast's last
// two seconds) still records the broadcast to its end: the recorder lets it read what was already sent before the
// RTCP BYE ends its input — FFmpeg reads a BYE ahead of the RTP waiting in its sockets, and ended the track there.
import * as assert from 'uvu/assert';
import { liveSuite, withBroadcast } from '../helpers/live-suite.ts';
import { runningRecorders } from '../../recorder/Recording.ts';
import { checkRecordedWhole } from '../helpers/recording.ts';
import { unpublish, until } from '../helpers/webrtc.ts';

const t = liveSuite('a lagging recording FFmpeg', { owner: 'Lagging', after: () => runningRecorders().forEach((pid) => process.kill(pid, 'SIGCONT')) });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t('FFmpeg stopped for the last 2 s of an 8 s broadcast, then let go → the VoD still holds the whole broadcast', async (ctx) => {
  await withBroadcast(ctx, 'lagging', async (page, b) => {
    await sleep(6000);
    const [pid] = runningRecorders();
    assert.ok(pid, 'a recording FFmpeg runs');
    process.kill(pid!, 'SIGSTOP');
    try {
      await sleep(2000);
      assert.is(await unpublish(page), 200);
      // the broadcast has ended and what it sent waits in FFmpeg's sockets; FFmpeg runs again a moment later
      await sleep(500);
    } finally {
      process.kill(pid!, 'SIGCONT');
    }
    const r = await checkRecordedWhole(ctx.api, ctx.owner, b);
    console.log(`    lagging FFmpeg: VoD ${r.seconds.toFixed(2)} s of a ${r.broadcast.toFixed(2)} s broadcast`);
    assert.is(await until(async () => runningRecorders().length, (n) => n === 0, 10_000), 0, 'no recording FFmpeg left');
  });
});

t.run();
