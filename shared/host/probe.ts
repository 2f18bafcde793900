// ffprobe (and a short FFmpeg decode) of an uploaded file, for the control plane's upload check (api/uploads.ts): the
// one way the API runs them — bounded in time, killed past it, stderr's tail kept. Host-specific because the web
// platform starts no processes; Deno runs it through its Node compatibility (node:child_process). Media-plane code
// runs FFmpeg through shared/ffmpeg.ts instead; this one is the control plane's, which must not import that.
import { spawn } from 'node:child_process';

/** Lines of stderr kept (FFmpeg says why in its last few). */
const STDERR_LINES = 12;
/** Bytes of stdout kept (ffprobe's JSON of a file with hundreds of streams stays well under). */
const STDOUT_CAP = 1 << 20;

/** How one run ended: its exit code (null when killed: `timedOut` says whether by the deadline), stdout, stderr's tail. */
export type ToolRun = { code: number | null; timedOut: boolean; stdout: string; stderr: string; command: string };

/** Runs `tool` (ffprobe or ffmpeg) with `args` to its end or `timeoutMs` (then SIGKILL); never rejects on the tool's failure. */
export function runMediaTool(tool: 'ffprobe' | 'ffmpeg', args: string[], timeoutMs: number): Promise<ToolRun> {
  return new Promise((resolve) => {
    const command = `${tool} ${args.join(' ')}`;
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < STDOUT_CAP) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      // only the tail is kept: a broken file can make FFmpeg print a line per packet
      stderr = (stderr + d).split('\n').slice(-STDERR_LINES - 1).join('\n');
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    let settled = false;
    const done = (code: number | null, extra = '') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code, timedOut, stdout, stderr: (stderr + extra).trim(), command });
    };
    child.once('error', (err) => done(null, `\n${err.message}`));
    child.once('close', (code) => done(code));
  });
}
