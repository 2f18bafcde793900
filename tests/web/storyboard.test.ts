// The storyboard's WebVTT parser (web/src/vod/storyboard.ts): the cues FFmpeg-made ladders carry, resolved URLs,
// malformed cues skipped, size bounds, and the lookup the seek bar uses.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cueAt, MAX_CUES, MAX_VTT_BYTES, parseStoryboard, vttTime } from '../../web/src/vod/storyboard.ts';
import { storyboardVtt } from '../helpers/vod-ladder-seed.ts';

const t = suite('storyboard cues');
const BASE = 'http://glint.test/hls/vod/abc/storyboard.vtt?token=x';

t('parses the seed ladder\'s cues with their tile rectangles and URLs resolved against the .vtt', () => {
  const cues = parseStoryboard(storyboardVtt(6), BASE);
  assert.is(cues.length, 6);
  assert.equal(cues[4], { start: 4, end: 5, url: 'http://glint.test/hls/vod/abc/storyboard.jpg', x: 160, y: 90, w: 160, h: 90 });
});

t('vttTime reads hours, minutes and milliseconds and refuses anything else', () => {
  assert.is(vttTime('01:02:03.500'), 3723.5);
  assert.is(vttTime('02:03.250'), 123.25);
  assert.ok(Number.isNaN(vttTime('2:3')));
  assert.ok(Number.isNaN(vttTime('00:61:00.000')));
});

t('skips malformed cues (no xywh, backwards times, bad numbers) and keeps the rest in time order', () => {
  const text = [
    'WEBVTT', '',
    '00:00:10.000 --> 00:00:12.000', 'sb.jpg#xywh=0,0,10,10', '',
    '00:00:02.000 --> 00:00:01.000', 'sb.jpg#xywh=0,0,10,10', '',
    '00:00:03.000 --> 00:00:04.000', 'sb.jpg', '',
    '00:00:05.000 --> 00:00:06.000', 'sb.jpg#xywh=a,0,10,10', '',
    '00:00:00.000 --> 00:00:02.000 line:0', 'sb.jpg#xywh=10,0,10,10', '',
  ].join('\n');
  const cues = parseStoryboard(text, BASE);
  assert.equal(cues.map((c) => c.start), [0, 10]);
});

t('refuses a file that is not WebVTT, or too large; stops at MAX_CUES', () => {
  assert.throws(() => parseStoryboard('<html>', BASE), /WebVTT/);
  assert.throws(() => parseStoryboard('WEBVTT\n' + 'x'.repeat(MAX_VTT_BYTES), BASE), /too large/);
  const many = 'WEBVTT\n\n' + Array.from({ length: MAX_CUES + 10 }, (_, i) => `${String(Math.floor(i / 3600)).padStart(2, '0')}:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000 --> ${String(Math.floor(i / 3600)).padStart(2, '0')}:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.500\ns.jpg#xywh=0,0,1,1\n`).join('\n');
  assert.is(parseStoryboard(many, BASE).length, MAX_CUES);
});

t('cueAt finds the tile of a time, the last one before a gap, none before the first', () => {
  const cues = parseStoryboard(storyboardVtt(6), BASE);
  assert.is(cueAt(cues, 2.5)?.start, 2);
  assert.is(cueAt(cues, 0)?.start, 0);
  assert.is(cueAt(cues, 99)?.start, 5);
  assert.is(cueAt(cues.slice(1), 0.5), null);
  assert.is(cueAt([], 1), null);
});

t.run();
