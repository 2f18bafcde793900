// Every FFmpeg child Glint starts goes through here (the RTMP bridge, recordings, frame grabs, duration probes): one
// way to start it (fluent-ffmpeg), its stderr tail and command line kept for the log when it fails, one terminal
// state (`exited` settles once, whatever ended it), and one stop sequence — a first step of the caller's (close the
// input, an RTCP BYE), then a signal, then SIGKILL, each after a timeout the caller sets. Each child is registered in
// its ChildGroup until it exits, so none outlives this process.
import type { ChildProcess } from 'node:child_process';
import type { FfmpegCommand } from 'fluent-ffmpeg';
import ffmpeg from 'fluent-ffmpeg';
import type { ChildGroup } from './children.ts';
import type { Logger } from './logger.ts';

/** Lines of stderr kept for the log of a failure (FFmpeg says why in its last few). */
const STDERR_LINES = 20;
/** A one-shot child (a frame grab, a probe) that takes longer than its timeout is signalled, then killed this long after. */
const ONE_SHOT_KILL_MS = 1000;

/** How a child is ended: `first`, then `signal` after `graceMs` if it has not exited, then SIGKILL `killMs` later. */
export type StopSequence = {
  /** the step before any signal, after which FFmpeg should end by itself (its input closed, a BYE sent) */
  first?: () => unknown;
  graceMs: number;
  /** SIGTERM unless said (FFmpeg blocked in an RTP read ignores it; a recording uses SIGINT) */
  signal?: NodeJS.Signals;
  killMs: number;
  /** checked before each signal: while it holds, the sequence is called off (the media came back; a stop took over) */
  unless?: () => boolean;
};

/** How the child ended. `asked`: a stop sequence was under way (its end is no failure). */
export type FfmpegExit = { error?: Error; asked: boolean; code: number | null; signal: NodeJS.Signals | null; command: string; stderr: string };

export type FfmpegOptions = {
  group: ChildGroup;
  log: Logger;
  /** what this child is, for the log ("recording FFmpeg", "bridge FFmpeg") */
  what: string;
  /** the child exists (fluent-ffmpeg spawns after checking the binary) */
  onStart?: (pid: number | undefined) => void;
  onStderr?: (line: string) => void;
  onProgress?: (progress: { timemark: string; frames?: number }) => void;
};

/** One FFmpeg child, from run() to its one terminal state. */
export class FfmpegProcess {
  readonly exited: Promise<FfmpegExit>;
  private proc: ChildProcess | undefined;
  private readonly tail: string[] = [];
  private command = '';
  private asked = false;
  /** the signal a stop sequence reached before the child existed: it gets it as soon as it does */
  private owed: NodeJS.Signals | undefined;
  private ended = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(cmd: FfmpegCommand, opts: FfmpegOptions) {
    this.exited = new Promise((resolve) => {
      cmd.on('start', (line: string) => {
        this.command = line;
        this.proc = (cmd as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
        if (this.proc) opts.group.add(this.proc);
        if (this.owed) this.proc?.kill(this.owed);
        opts.log.debug({ pid: this.proc?.pid, cmd: line }, `${opts.what} started`);
        opts.onStart?.(this.proc?.pid);
      });
      cmd.on('stderr', (line: string) => {
        this.tail.push(line);
        if (this.tail.length > STDERR_LINES) this.tail.shift();
        opts.log.trace({ line }, `${opts.what} stderr`);
        opts.onStderr?.(line);
      });
      if (opts.onProgress) cmd.on('progress', opts.onProgress);
      const done = (error?: Error) => {
        if (this.ended) return;
        this.ended = true;
        if (this.proc) opts.group.delete(this.proc);
        for (const t of this.timers) clearTimeout(t);
        this.timers.clear();
        const exit: FfmpegExit = {
          ...(error ? { error } : {}), asked: this.asked, code: this.proc?.exitCode ?? null, signal: this.proc?.signalCode ?? null, command: this.command, stderr: this.stderr,
        };
        if (error && !this.asked) opts.log.debug({ err: error.message.split('\n')[0], cmd: this.command, stderr: exit.stderr }, `${opts.what} failed`);
        resolve(exit);
      };
      cmd.on('end', () => done());
      cmd.on('error', (err: Error) => done(err));
    });
    cmd.run();
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Started and not exited (a child still being spawned is not running yet). */
  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Its last lines of stderr. */
  get stderr(): string {
    return this.tail.join('\n');
  }

  /**
   * Runs a stop sequence; resolves once the child has exited. Each call runs its own (a pause's, then the recording's
   * end), every timer cleared at the exit.
   */
  async stop(seq: StopSequence): Promise<FfmpegExit> {
    if (this.ended) return this.exited;
    this.asked = true;
    await seq.first?.();
    const step = (signal: NodeJS.Signals, ms: number) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (seq.unless?.() || this.ended) return;
        if (this.proc) this.proc.kill(signal);
        else this.owed = signal;
      }, ms);
      this.timers.add(t);
    };
    step(seq.signal ?? 'SIGTERM', seq.graceMs);
    step('SIGKILL', seq.graceMs + seq.killMs);
    return this.exited;
  }
}

/** A one-shot FFmpeg (a frame grab, a probe): resolves with its exit, ended if it takes longer than `timeoutMs`. */
export async function runOnce(cmd: FfmpegCommand, opts: FfmpegOptions & { timeoutMs: number }): Promise<FfmpegExit> {
  const child = new FfmpegProcess(cmd, opts);
  const timer = setTimeout(() => {
    opts.log.warn({ timeoutMs: opts.timeoutMs, stderr: child.stderr }, `${opts.what} took too long; ending it`);
    void child.stop({ graceMs: 0, killMs: ONE_SHOT_KILL_MS });
  }, opts.timeoutMs);
  const exit = await child.exited;
  clearTimeout(timer);
  return exit;
}

/**
 * A media file's duration in seconds (0 when unreadable), from what FFmpeg reports reading it whole: the header's
 * estimate (ffprobe's format duration) — an ffprobe child of its own could not be supervised.
 */
export async function probeDuration(file: string, opts: Omit<FfmpegOptions, 'what' | 'onStderr'> & { timeoutMs: number }): Promise<number> {
  let duration = 0;
  const cmd = ffmpeg(file).outputOptions(['-map', '0', '-c', 'copy', '-f', 'null']).output('-');
  const exit = await runOnce(cmd, {
    ...opts,
    what: 'duration probe',
    onStderr: (line) => {
      const m = /^\s*Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)/.exec(line);
      if (m) duration = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
    },
  });
  return exit.error ? 0 : duration;
}
