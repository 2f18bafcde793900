// The ladder rules (shared/vod-ladder.ts): which renditions a source gets, never upscaled, by the shorter side,
// bitrates capped by the source and raised for high frame rates, codecs by height, and the master playlist text.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { avc1Codec, bitrateAt, encodeOrder, h264Level, ladderFor, masterPlaylist, storyboardPlan, storyboardVtt, type SourceInfo } from '../../shared/vod-ladder.ts';

const src = (s: Partial<SourceInfo>): SourceInfo => ({ width: 1920, height: 1080, fps: 30, bitrate: 0, hasAudio: true, durationSeconds: 60, ...s });
const names = (s: SourceInfo) => ladderFor(s).map((r) => r.name);

test('a 1080p source gets every rung and the audio-only rendition, at PeerTube-like bitrates', () => {
  const ladder = ladderFor(src({}));
  assert.equal(ladder.map((r) => r.name), ['240p', '360p', '480p', '720p', '1080p', 'audio']);
  assert.equal(ladder.map((r) => `${r.width}x${r.height}`), ['426x240', '640x360', '854x480', '1280x720', '1920x1080', '0x0']);
  assert.equal(ladder.map((r) => r.videoBitrate), [500_000, 1_000_000, 1_500_000, 3_000_000, 6_200_000, 0]);
  assert.ok(ladder.every((r) => r.status === 'queued' && r.progress === 0));
  assert.is(ladder.find((r) => r.name === '1080p')!.codecs, 'avc1.640028,mp4a.40.2', 'High 4.0');
  assert.is(ladder.find((r) => r.name === '720p')!.codecs, 'avc1.64001f,mp4a.40.2', 'High 3.1');
  assert.is(ladder.find((r) => r.name === '360p')!.codecs, 'avc1.4d401e,mp4a.40.2', 'Main 3.0');
  assert.is(ladder.find((r) => r.name === 'audio')!.codecs, 'mp4a.40.2');
  assert.ok(ladder.find((r) => r.name === '1080p')!.bandwidth > 6_200_000 + 128_000, 'BANDWIDTH counts audio and overhead');
});

test('never upscaled: a 720p source stops at 720p; an odd size stops below it', () => {
  assert.equal(names(src({ width: 1280, height: 720 })), ['240p', '360p', '480p', '720p', 'audio']);
  assert.equal(names(src({ width: 1000, height: 700 })), ['240p', '360p', '480p', 'audio']);
  for (const r of ladderFor(src({ width: 1000, height: 700 }))) assert.ok(r.width <= 1000 && r.height <= 700);
});

test('portrait sources are laddered by their shorter side', () => {
  const ladder = ladderFor(src({ width: 1080, height: 1920 }));
  assert.equal(ladder.map((r) => r.name), ['240p', '360p', '480p', '720p', '1080p', 'audio']);
  assert.equal(ladder.find((r) => r.name === '720p')!.width, 720);
  assert.equal(ladder.find((r) => r.name === '720p')!.height, 1280);
});

test('a source smaller than 240p gets one rendition at its own size', () => {
  const ladder = ladderFor(src({ width: 320, height: 180 }));
  assert.equal(ladder.map((r) => `${r.name} ${r.width}x${r.height}`), ['240p 320x180', 'audio 0x0']);
});

test('no audio: no audio-only rendition and no mp4a in CODECS', () => {
  const ladder = ladderFor(src({ hasAudio: false }));
  assert.not.ok(ladder.some((r) => r.name === 'audio'));
  assert.ok(ladder.every((r) => !r.codecs.includes('mp4a')));
});

test('bitrates: more at 60 fps, capped by the source bitrate', () => {
  assert.is(bitrateAt(6_200_000, 60), 8_990_000);
  assert.is(bitrateAt(6_200_000, 24), 6_200_000);
  const hi = ladderFor(src({ fps: 60 }));
  assert.is(hi.find((r) => r.name === '1080p')!.codecs.split(',')[0], 'avc1.64002a', '1080p60 needs level 4.2');
  assert.is(hi.find((r) => r.name === '720p')!.codecs.split(',')[0], 'avc1.640020', '720p60 needs level 3.2');
  const capped = ladderFor(src({ bitrate: 2_128_000 }));
  assert.equal(capped.filter((r) => r.name !== 'audio').map((r) => r.videoBitrate), [500_000, 1_000_000, 1_500_000, 2_000_000, 2_000_000]);
  assert.is(ladderFor(src({ fps: 120 }))[0]!.frameRate, 60, '120 fps is encoded at 60');
});

test('h264Level and avc1Codec', () => {
  assert.is(h264Level(1920, 1080, 30, 6_000_000), 40);
  assert.is(h264Level(3840, 2160, 30, 20_000_000), 51);
  assert.is(avc1Codec('main', 31), 'avc1.4d401f');
});

test('encodeOrder: the lowest video first, audio next, then upwards', () => {
  assert.equal(encodeOrder(ladderFor(src({}))).map((r) => r.name), ['240p', 'audio', '360p', '480p', '720p', '1080p']);
});

test('masterPlaylist lists only ready renditions, the audio-only one without RESOLUTION; null before a video one', () => {
  const ladder = ladderFor(src({ width: 1280, height: 720 }));
  assert.is(masterPlaylist(ladder), null);
  ladder.find((r) => r.name === 'audio')!.status = 'ready';
  assert.is(masterPlaylist(ladder), null, 'audio alone is no video');
  ladder.find((r) => r.name === '240p')!.status = 'ready';
  ladder.find((r) => r.name === '720p')!.status = 'ready';
  const text = masterPlaylist(ladder)!;
  const lines = text.trim().split('\n');
  assert.is(lines[0], '#EXTM3U');
  assert.ok(lines.includes('#EXT-X-INDEPENDENT-SEGMENTS'));
  const inf = lines.filter((l) => l.startsWith('#EXT-X-STREAM-INF:'));
  assert.is(inf.length, 3);
  assert.match(inf[0]!, /BANDWIDTH=\d+,CODECS="avc1\.4d401e,mp4a\.40\.2",RESOLUTION=426x240,FRAME-RATE=30\.000/);
  assert.match(inf[1]!, /CODECS="avc1\.64001f,mp4a\.40\.2",RESOLUTION=1280x720/);
  assert.match(inf[2]!, /^#EXT-X-STREAM-INF:BANDWIDTH=140800,CODECS="mp4a\.40\.2"$/);
  assert.equal(lines.filter((l) => !l.startsWith('#')), ['240p/index.m3u8', '720p/index.m3u8', 'audio/index.m3u8']);
});

test('storyboard: ≤ 100 tiles, 10 a row, cues covering the duration with #xywh', () => {
  const short = storyboardPlan(5);
  assert.equal([short.interval, short.count, short.columns, short.rows], [1, 5, 5, 1]);
  const long = storyboardPlan(3600);
  assert.ok(long.count <= 100);
  assert.equal([long.interval, long.columns, long.rows], [36, 10, 10]);
  const vtt = storyboardVtt(storyboardPlan(25), 25);
  assert.ok(vtt.startsWith('WEBVTT\n'));
  const cues = vtt.split('\n').filter((l) => l.includes('#xywh='));
  assert.is(cues.length, 25);
  assert.is(cues[11], 'storyboard.jpg#xywh=160,90,160,90');
  assert.match(vtt, /00:00:24\.000 --> 00:00:25\.000/);
});

test.run();
