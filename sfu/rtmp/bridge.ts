// The RTMP bridge's FFmpeg: FLV tags in on stdin, one RTP stream per track out to the room's plain transports.
// H.264 that every browser can decode is copied (its SPS/PPS written in-band before each keyframe, its frames put
// on the nominal frame clock: FLV stamps them to the millisecond); anything else
// is re-encoded with x264's low-latency settings; audio always becomes Opus. Every child is supervised (shared/ffmpeg.ts):
// stop() ends its input, then SIGTERM, then SIGKILL, and a process exit kills whatever is left.
import { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { ChildGroup } from '../../shared/children.ts';
import { FfmpegProcess } from '../../shared/ffmpeg.ts';
import type { Logger } from '../../shared/logger.ts';

export type VideoPlan =
  /** frameRate: the stream's nominal rate, when known, to stamp its frames regularly (see frameClock) */
  | { mode: 'copy'; profileLevelId: string; frameRate?: number }
  | { mode: 'transcode'; reason: string; kbps: number };

type RtpTarget = { rtp: number; rtcp: number; payloadType: number; ssrc: number };

export type BridgePlan = {
  video?: VideoPlan & RtpTarget;
  audio?: RtpTarget;
};

/** Every FFmpeg child of this kind alive in this process (none may outlive it). */
const children = new ChildGroup();
export const runningBridges = () => children.pids();

/** Frame times in FLV are whole milliseconds: at 30 fps a copied stream's frames came 33, 33 and 34 ms apart. */
const FLV_JITTER_TICKS = 1.5 * 90; // 1.5 ms at RTP's 90 kHz video clock

/**
 * The setts bitstream filter that puts copied frames on the nominal frame clock: a frame within FLV's millisecond
 * rounding of one frame after the last is stamped exactly one frame after it; any other (a dropped frame, a jump)
 * keeps its own time and the clock follows from there. Without it a player or FFmpeg reading the recording guesses
 * a frame rate off by a fraction (29.9 fps) and sees frames closer than one frame apart ("non monotonically
 * increasing dts"), and WebRTC viewers get uneven frame times.
 */
export function frameClock(frameRate: number): string {
  const tick = (90000 / frameRate).toFixed(3);
  const next = `(PREV_OUTPTS+${tick})`;
  return `setts=ts=if(lt(abs(PTS-${next})\\,${FLV_JITTER_TICKS})\\,${next}\\,PTS):time_base=1/90000`;
}

const rtpUrl = (t: RtpTarget) => `rtp://127.0.0.1:${t.rtp}?rtcpport=${t.rtcp}&pkt_size=1200`;

export class FfmpegBridge {
  private readonly input = new PassThrough({ highWaterMark: 4 << 20 });
  private readonly proc: FfmpegProcess;
  private readonly exited: Promise<void>;
  private stopping = false;

  /** Fires when FFmpeg exits without having been asked to (crash, bad input). */
  onFailure: (reason: string) => void = () => undefined;
  /** Fires when FFmpeg has read what it was behind on (after write() returned false). */
  onDrain: () => void = () => undefined;

  constructor(
    readonly plan: BridgePlan,
    private readonly log: Logger,
  ) {
    const cmd = ffmpeg({ stdoutLines: 0 })
      .input(this.input)
      .inputFormat('flv')
      // the probe reads the decoder configurations the bridge writes first; `-fflags nobuffer` would drop the packets
      // read while probing, the first keyframe among them, and a copied stream would show nothing until the next
      .inputOptions(['-flags', 'low_delay', '-probesize', '500000', '-analyzeduration', '500000'])
      .outputOptions(['-hide_banner', '-loglevel', 'warning', '-nostats']);
    const { video, audio } = plan;
    if (video) {
      const codec =
        video.mode === 'copy'
          ? ['-c:v', 'copy', '-bsf:v', ['h264_mp4toannexb', ...(video.frameRate ? [frameClock(video.frameRate)] : [])].join(',')]
          : [
              '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'baseline',
              '-pix_fmt', 'yuv420p', '-bf', '0', '-g', '60', '-keyint_min', '30',
              '-b:v', `${video.kbps}k`, '-maxrate', `${video.kbps}k`, '-bufsize', `${Math.round(video.kbps / 2)}k`,
            ];
      cmd.output(rtpUrl(video)).outputOptions(['-map', '0:v:0', ...codec, '-an', '-payload_type', String(video.payloadType), '-ssrc', String(video.ssrc), '-f', 'rtp']);
    }
    if (audio) {
      cmd.output(rtpUrl(audio)).outputOptions([
        '-map', '0:a:0', '-c:a', 'libopus', '-b:a', '128k', '-ar', '48000', '-ac', '2', '-application', 'lowdelay',
        '-vn', '-payload_type', String(audio.payloadType), '-ssrc', String(audio.ssrc), '-f', 'rtp',
      ]);
    }
    this.proc = new FfmpegProcess(cmd, { group: children, log, what: 'bridge FFmpeg' });
    this.exited = this.proc.exited.then(({ error, command, stderr }) => {
      if (this.stopping) return;
      const reason = error ? `FFmpeg failed: ${error.message.split('\n')[0]}` : 'FFmpeg ended';
      log.warn({ reason, cmd: command, stderr }, 'RTMP bridge stopped unexpectedly');
      this.onFailure(reason);
    });
    // a write after FFmpeg is gone fails with EPIPE; the exit handler above reports it
    this.input.on('error', () => undefined);
    this.input.on('drain', () => this.onDrain());
  }

  get pid() {
    return this.proc?.pid;
  }

  /** Queues FLV for FFmpeg; false when it is behind (more than the input's 4 MiB unread): stop reading the publisher. */
  write(chunk: Buffer): boolean {
    if (this.stopping || this.input.destroyed) return true;
    return this.input.write(chunk);
  }

  /** FFmpeg has room for more input. */
  get writable(): boolean {
    return !this.input.writableNeedDrain;
  }

  /** Ends FFmpeg: closes its input, then SIGTERM after `graceMs`, then SIGKILL. Resolves once it has exited. */
  async stop(graceMs = 1500): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      void this.proc.stop({ first: () => this.input.end(), graceMs, killMs: graceMs });
    }
    return this.exited;
  }
}
