// shared/ffmpeg.ts, the one FFmpeg wrapper, with a real FFmpeg: its stop sequence, its one terminal state, its stderr
// tail, its one-shot timeout, and its duration probe against ffprobe's.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ChildGroup } from '../../shared/children.ts';
import { FfmpegProcess, probeDuration, runOnce } from '../../shared/ffmpeg.ts';
import { capturingLogger } from '../helpers/log.ts';

type Ctx = { dir: string; file: string };
const t = suite<Ctx>('FFmpeg wrapper');

t.before((ctx) => {
  ctx.dir = mkdtempSync(path.join(tmpdir(), 'glint-ffmpeg-'));
  ctx.file = path.join(ctx.dir, 'clip.ts');
  // a test file made before the wrapper is under test (not an in-process server: no deadlock)
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=2.3:size=160x120:rate=30', '-c:v', 'libx264', '-f', 'mpegts', ctx.file]);
});
t.after((ctx) => rmSync(ctx.dir, { recursive: true, force: true }));

/** An FFmpeg that runs until it is ended: a test pattern in real time, written nowhere. */
const endless = () => ffmpeg().input('testsrc=size=160x120:rate=10').inputFormat('lavfi').inputOptions(['-re']).outputOptions(['-f', 'null']).output('-');

t('stop() runs its first step, then the signal after graceMs; the child leaves its group', async () => {
  const group = new ChildGroup();
  const { log } = capturingLogger('debug');
  let pid: number | undefined;
  const child = new FfmpegProcess(endless(), { group, log, what: 'test FFmpeg', onStart: (p) => (pid = p) });
  while (!child.running) await new Promise((r) => setTimeout(r, 20));
  assert.equal(group.pids(), [pid!]);
  let first = 0;
  const t0 = Date.now();
  const exit = await child.stop({ first: () => (first = Date.now()), graceMs: 300, killMs: 5000 });
  assert.ok(first > 0, 'the first step ran');
  assert.ok(Date.now() - t0 >= 290, 'the signal waited graceMs');
  assert.ok(Date.now() - t0 < 4000, 'SIGTERM ended it before SIGKILL was due');
  assert.is(exit.asked, true);
  assert.not.ok(child.running);
  assert.equal(group.pids(), []);
  assert.is(await child.exited, exit, 'one terminal state');
});

t('a child that ignores the signal is killed killMs later', async () => {
  const group = new ChildGroup();
  const child = new FfmpegProcess(endless(), { group, log: capturingLogger().log, what: 'test FFmpeg' });
  while (!child.running) await new Promise((r) => setTimeout(r, 20));
  const t0 = Date.now();
  // SIGWINCH ends nothing: the sequence has to go on to SIGKILL
  const exit = await child.stop({ graceMs: 100, signal: 'SIGWINCH', killMs: 300 });
  assert.is(exit.signal, 'SIGKILL');
  assert.ok(Date.now() - t0 >= 390, `killed after ${Date.now() - t0} ms`);
  assert.equal(group.pids(), []);
});

t('unless() calls a sequence off: the child runs on', async () => {
  const group = new ChildGroup();
  const child = new FfmpegProcess(endless(), { group, log: capturingLogger().log, what: 'test FFmpeg' });
  while (!child.running) await new Promise((r) => setTimeout(r, 20));
  void child.stop({ graceMs: 50, killMs: 50, unless: () => true });
  await new Promise((r) => setTimeout(r, 400));
  assert.ok(child.running, 'still running');
  await child.stop({ graceMs: 0, killMs: 2000 });
  assert.equal(group.pids(), []);
});

t('an FFmpeg that fails resolves with its error, command line and stderr tail', async () => {
  const exit = await runOnce(ffmpeg('/nonexistent/input.ts').outputOptions(['-f', 'null']).output('-'), { group: new ChildGroup(), log: capturingLogger().log, what: 'test FFmpeg', timeoutMs: 10_000 });
  assert.ok(exit.error, 'an error');
  assert.is(exit.asked, false);
  assert.match(exit.command, /nonexistent\/input\.ts/);
  assert.match(exit.stderr, /No such file or directory/);
});

t('runOnce ends a child that outlives its timeout', async () => {
  const group = new ChildGroup();
  const t0 = Date.now();
  const exit = await runOnce(endless(), { group, log: capturingLogger().log, what: 'test FFmpeg', timeoutMs: 300 });
  assert.ok(Date.now() - t0 < 3000, `ended after ${Date.now() - t0} ms`);
  assert.is(exit.asked, true);
  assert.equal(group.pids(), []);
});

t('probeDuration reads what ffprobe reads (to FFmpeg\'s 10 ms), 0 for no media', async ({ file, dir }) => {
  const opts = { group: new ChildGroup(), log: capturingLogger().log, timeoutMs: 10_000 };
  const probed = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], { encoding: 'utf8' }));
  const seconds = await probeDuration(file, opts);
  assert.ok(Math.abs(seconds - probed) <= 0.01, `${seconds} vs ffprobe's ${probed}`);
  assert.is(await probeDuration(path.join(dir, 'missing.ts'), opts), 0);
});

t.run();
