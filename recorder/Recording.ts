// One live session being recorded: the SFU sends each track as plain RTP to ports this recording listens on (through
// FFmpeg), FFmpeg writes ~2 s HLS segments into a work directory, and an uploader copies them to the object store,
// each segment before the playlist that names it, so a reader never sees a playlist pointing at a missing segment.
import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import ffmpeg from 'fluent-ffmpeg';
import { write as writeSdp, type SessionDescription } from 'sdp-transform';
import type { EventBus, RecordedTrack, RtpTarget } from '../shared/bus.ts';
import { ChildGroup } from '../shared/children.ts';
import type { Logger } from '../shared/logger.ts';
import type { ObjectStore } from '../shared/storage.ts';
import { RTP_RECEIVE_BUFFER, RtpRelay } from './rtp-relay.ts';
import { CONTENT_TYPES, durationMs, parsePlaylist, playable } from './hls.ts';

export const SEGMENT_SECONDS = 2;
/** How often a live channel's preview image (shown in lists) is refreshed from the newest segment. */
export const PREVIEW_SECONDS = 15;
export const previewKey = (sessionId: string) => `live/${sessionId}/preview.jpg`;
const ATTACH_TIMEOUT_MS = 5000;
const START_RETRY_MS = 1000;
/** Attempts at the first attach, a second apart: longer than a publisher's reconnect grace period. */
const START_ATTEMPTS = 60;
const SYNC_INTERVAL_MS = 500;
/** FFmpeg failures in a row without a new segment before the recording gives up. (An input that idles out — the
 * publisher paused or is away — is not a failure: FFmpeg ends and restarts every ~1.5 s until media comes back.) */
const MAX_RESTARTS = 20;
const INPUT_IDLE_SECONDS = 1;
/** After FFmpeg reports its input idle, how long it may take to exit by itself before it is ended. */
const IDLE_EXIT_GRACE_MS = 500;
/** Upload retries back off from the first to the last delay (doubling) while the object store is away. */
const UPLOAD_RETRY_FIRST_MS = 500;
const UPLOAD_RETRY_MAX_MS = 5000;
/** How long an FFmpeg a killed recorder left behind may take to end by itself (its RTP stopped) before it is killed. */
const ORPHAN_EXIT_MS = 8000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** At the end, how long past its input's idle timeout FFmpeg may take before it is signalled (then as long again
 * before it is killed). Measured: the BYE ends it within ~0.3 s, so this is the fallback only. */
const STOP_GRACE_SECONDS = 1;
/** At the end, how long FFmpeg may take to read the RTP already sent to it before the BYE ends its input. */
const DRAIN_BEFORE_BYE_MS = 2000;

/** Every FFmpeg child of this kind alive in this process (none may outlive it). */
const children = new ChildGroup();
export const runningRecorders = () => children.pids();

/** Writes the first frame of a segment as a 640 px wide JPEG; false when there is none. */
async function frameOf(segment: string, jpeg: string): Promise<boolean> {
  const ok = await new Promise<boolean>((resolve) => {
    ffmpeg(segment)
      .outputOptions(['-frames:v', '1', '-vf', 'scale=640:-2', '-q:v', '4'])
      .output(jpeg)
      .on('end', () => resolve(true))
      .on('error', () => resolve(false))
      .run();
  });
  return ok && !!(await stat(jpeg).catch(() => null));
}

/** A media file's duration in seconds (0 when unreadable). */
function probeDuration(file: string): Promise<number> {
  return new Promise((resolve) => ffmpeg.ffprobe(file, (err, data) => resolve(err ? 0 : Number(data.format.duration) || 0)));
}

/** An even port whose successor is free too (RTP and RTCP for one track), both on the loopback address. */
async function portPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(0, '127.0.0.1', () => resolve(probe.address().port));
    });
    probe.close();
    const even = port % 2 === 0 ? port : port + 1;
    const ok = await Promise.all([even, even + 1].map((p) => new Promise<boolean>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(p, '127.0.0.1', () => s.close(() => resolve(true)));
    })));
    if (ok.every(Boolean)) return even;
  }
  throw new Error('no free UDP port pair for the recorder');
}

/** The child has not exited (and was not killed). */
const running = (proc: ChildProcess | undefined): proc is ChildProcess => !!proc && proc.exitCode === null && proc.signalCode === null;

/** UDP sockets on this host, each port with the bytes waiting unread in it (Linux: /proc/net/udp; null where it
 * cannot be read). */
async function udpSockets(): Promise<Map<number, number> | null> {
  const text = await readFile('/proc/net/udp', 'utf8').catch(() => null);
  if (text === null) return null;
  const sockets = new Map<number, number>();
  for (const line of text.split('\n').slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue …
    const [, local, , , queues] = line.trim().split(/\s+/);
    if (local && queues) sockets.set(Number.parseInt(local.split(':')[1]!, 16), Number.parseInt(queues.split(':')[1]!, 16));
  }
  return sockets;
}

/** UDP ports bound on this host (null where it cannot be read). */
async function boundUdpPorts(): Promise<Set<number> | null> {
  const sockets = await udpSockets();
  return sockets && new Set(sockets.keys());
}

/** Resolves once nothing waits unread in these ports' sockets (or after `timeoutMs`; at once where it cannot be read). */
async function untilRead(ports: number[], timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(20)) {
    const sockets = await udpSockets();
    if (!sockets || ports.every((p) => !sockets.get(p))) return;
  }
}

/** Resolves once FFmpeg listens on every port (or after `timeoutMs`): RTP sent earlier would be lost, keyframe first. */
async function untilListening(ports: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const bound = await boundUdpPorts();
    if (!bound) return new Promise((r) => setTimeout(r, 300)); // no /proc: FFmpeg has its ports within ~300 ms
    if (ports.every((p) => bound.has(p)) || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Asks the SFU (over the bus) to send this live session's tracks — named by its id, never by the channel, whose next
 * session may already be live — to `targets`; resolves with what each track carries. */
async function attach(bus: EventBus, sessionId: string, targets: Record<'audio' | 'video', RtpTarget | undefined>): Promise<RecordedTrack[]> {
  const requestId = randomUUID();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('the SFU did not answer the recording request'));
    }, ATTACH_TIMEOUT_MS);
    const off = bus.subscribe('recorder.attached', (r) => {
      if (r.requestId !== requestId) return;
      clearTimeout(timer);
      off();
      if (r.error) reject(new Error(r.error));
      else resolve(r.tracks);
    });
    void bus.publish('recorder.attach', { requestId, sessionId, targets });
  });
}

/** The SDP FFmpeg reads to receive the tracks (written with sdp-transform). */
function sdpFor(tracks: (RecordedTrack & { port: number })[]): string {
  const session: SessionDescription = {
    version: 0,
    origin: { username: '-', sessionId: 0, sessionVersion: 0, netType: 'IN', ipVer: 4, address: '127.0.0.1' },
    name: 'Glint recording',
    connection: { version: 4, ip: '127.0.0.1' },
    timing: { start: 0, stop: 0 },
    media: tracks.map((t) => {
      const fmtp = Object.entries(t.parameters).map(([k, v]) => `${k}=${v}`).join(';');
      return {
        type: t.kind,
        port: t.port,
        protocol: 'RTP/AVP',
        payloads: String(t.payloadType),
        rtp: [{ payload: t.payloadType, codec: t.mimeType.split('/')[1]!, rate: t.clockRate, ...(t.channels ? { encoding: t.channels } : {}) }],
        fmtp: fmtp ? [{ payload: t.payloadType, config: fmtp }] : [],
        rtcp: { port: t.port + 1 },
        direction: 'recvonly' as const,
      };
    }),
  };
  return writeSdp(session);
}

export type RecordingInfo = { vodId: string; sessionId: string; slug: string; prefix: string };

export class Recording {
  private proc: ChildProcess | undefined;
  private tracks: (RecordedTrack & { port: number })[] = [];
  private kinds: ('audio' | 'video')[] = [];
  /** attached and recording (false while waiting for a publisher who left before the recording could attach) */
  private started = false;
  private starting: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  /** where the SFU sends each track: its relay, which passes it on to FFmpeg's port */
  private targets: Record<'audio' | 'video', RtpTarget | undefined> = { audio: undefined, video: undefined };
  /** FFmpeg's RTP port for each track (RTCP on the next one) */
  private ports: Record<'audio' | 'video', number | undefined> = { audio: undefined, video: undefined };
  /**
   * Every track passes through a relay in this process (h264-relay.ts): an H.264 picture reaches FFmpeg as one access
   * unit, and when this process dies its FFmpeg's input stops with it, so that FFmpeg finishes its segment and
   * exits instead of recording one track on alone.
   */
  private readonly relays = new Map<'audio' | 'video', RtpRelay>();
  private keyframeTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private previewTimer: NodeJS.Timeout | undefined;
  private previewed = '';
  private syncing: Promise<void> = Promise.resolve();
  private readonly uploaded = new Map<string, number>(); // segment → bytes
  private lastPlaylist = '';
  private restarts = 0;
  private spawned = 0;
  /** uploads failed in a row (the object store is away): the uploader waits until `retryAt` */
  private failures = 0;
  private retryAt = 0;
  /** the recording continues one a previous run left open (adopt()): same VoD, same work directory */
  private adopted = false;
  private stopping = false;
  /** the SFU reported the publisher's media stopped: FFmpeg is ended, and started again when it flows */
  private paused = false;
  /** an FFmpeg was spawned and has not exited (set at once, unlike `proc`, which arrives with its start event) */
  private alive = false;
  private exited: Promise<void> = Promise.resolve();
  private stderrTail: string[] = [];

  constructor(
    readonly info: RecordingInfo,
    private readonly workDir: string,
    private readonly deps: { bus: EventBus; store: ObjectStore; log: Logger; rtpIp: string },
  ) {}

  get pid() {
    return this.proc?.pid;
  }
  /** FFmpeg was started on the SFU's tracks (false until the first attach succeeds). */
  get attached() {
    return this.started;
  }
  get codecs() {
    return this.tracks.map((t) => t.mimeType);
  }

  /**
   * Attaches to the SFU, starts FFmpeg and the uploader. While the broadcast cannot be attached (its publisher dropped
   * before the recording began, the SFU is slow to answer, a producer closed mid-attach) it tries again every second
   * — at once when the publisher returns (reattach) — until stop(). Rejects only when every attempt failed.
   */
  start(kinds: ('audio' | 'video')[]): Promise<void> {
    this.kinds = kinds;
    this.starting = (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.startOnce();
        } catch (err) {
          if (this.stopping) return;
          if (attempt === 1) this.deps.log.info({ vod: this.info.vodId, err: (err as Error).message }, 'recording cannot attach yet; retrying');
          if (attempt >= START_ATTEMPTS) throw err;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, START_RETRY_MS);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.wake = undefined;
          if (this.stopping) return;
        }
      }
    })();
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    await mkdir(this.workDir, { recursive: true });
    const targets: Record<'audio' | 'video', RtpTarget | undefined> = { audio: undefined, video: undefined };
    const ports: Record<'audio' | 'video', number | undefined> = { audio: undefined, video: undefined };
    for (const kind of this.kinds) {
      const port = await portPair();
      ports[kind] = port;
      let relay = this.relays.get(kind);
      if (!relay) this.relays.set(kind, (relay = await RtpRelay.open(this.deps.rtpIp)));
      relay.forwardTo(port);
      // RTCP (the recorder's own BYE) goes straight to FFmpeg
      targets[kind] = { ip: this.deps.rtpIp, port: relay.port, rtcpPort: port + 1 };
    }
    const tracks = await attach(this.deps.bus, this.info.sessionId, targets);
    if (!tracks.length) throw new Error('the broadcast has no tracks to record');
    if (this.stopping) return;
    this.targets = targets;
    this.ports = ports;
    this.useTracks(tracks);
    // the SFU starts sending now, with a keyframe: the relays hold it all until FFmpeg listens, so the recording
    // begins with the broadcast's first picture however long FFmpeg takes to start
    await this.deps.bus.publish('recorder.resume', { sessionId: this.info.sessionId });
    await writeFile(path.join(this.workDir, 'input.sdp'), sdpFor(this.tracks));
    if (this.adopted) await this.continuePlaylist();
    this.spawn();
    this.started = true;
    await this.listening();
    if (this.stopping) return;
    this.keyframeTimer = setInterval(() => void this.keyframe(), SEGMENT_SECONDS * 1000);
    this.syncTimer = setInterval(() => Date.now() >= this.retryAt && void this.sync(), SYNC_INTERVAL_MS);
    if (this.tracks.some((t) => t.kind === 'video')) this.previewTimer = setInterval(() => void this.preview(), PREVIEW_SECONDS * 1000);
  }

  /** The tracks the SFU sends from now on, each on FFmpeg's port for its kind. */
  private useTracks(tracks: RecordedTrack[]) {
    this.tracks = tracks.map((t) => ({ ...t, port: this.ports[t.kind]! }));
    for (const t of tracks) this.relays.get(t.kind)?.newStream(t.mimeType.toLowerCase() === 'video/h264');
  }

  /** The live channel's preview: a frame of the newest uploaded segment (first as soon as there is one). */
  private async preview() {
    const { segments } = parsePlaylist(this.lastPlaylist);
    const newest = segments.at(-1)?.uri;
    if (!newest || newest === this.previewed || this.stopping) return;
    this.previewed = newest;
    const file = path.join(this.workDir, 'preview.jpg');
    if (await frameOf(path.join(this.workDir, newest), file)) {
      await this.deps.store.put(previewKey(this.info.sessionId), await readFile(file), CONTENT_TYPES.jpg!).catch(() => undefined);
    }
  }

  /**
   * The publisher reconnected: the SFU sends its new tracks to the same ports. FFmpeg (idled out or about to) is
   * restarted into the same playlist with a discontinuity, and the new tracks start with a keyframe.
   */
  async reattach(): Promise<void> {
    if (this.stopping) return;
    if (!this.started) {
      // the publisher had left before the first attach: try now (or begin trying again)
      if (this.wake) this.wake();
      else void this.start(this.kinds).catch((err) => this.deps.log.error({ err, vod: this.info.vodId }, 'could not start recording'));
      return;
    }
    this.useTracks(await attach(this.deps.bus, this.info.sessionId, this.targets));
    await writeFile(path.join(this.workDir, 'input.sdp'), sdpFor(this.tracks));
    this.restarts = 0;
    this.paused = false;
    await this.deps.bus.publish('recorder.resume', { sessionId: this.info.sessionId });
    if (!this.alive) {
      this.spawn(); // it had given up while the publisher was away
      await this.listening();
    }
    this.deps.log.info({ vod: this.info.vodId }, 'recording the returning publisher');
  }

  /**
   * Takes over a recording a previous run left open (the recorder was killed): what it stored counts as uploaded, and
   * what its work directory holds beyond that is uploaded next. Then start() continues it — the SFU sends the same
   * broadcast to new ports and a new FFmpeg appends to the same playlist after a discontinuity — or stop() finishes it
   * as it is. Throws when the object store cannot be read (the VoD is left for the next run).
   */
  async adopt(kinds: ('audio' | 'video')[]): Promise<void> {
    this.adopted = true;
    this.kinds = kinds;
    this.spawned = 1; // every FFmpeg of this recording continues the playlist
    const obj = await this.deps.store.get(`${this.info.prefix}index.m3u8`);
    const stored = obj ? await new Response(obj.body).text() : '';
    for (const seg of parsePlaylist(stored).segments) this.uploaded.set(seg.uri, (await this.deps.store.size(this.info.prefix + seg.uri)) ?? 0);
    this.lastPlaylist = stored;
  }

  /** Before an adopted recording's first FFmpeg: the playlist it appends to holds everything recorded so far. */
  private async continuePlaylist(): Promise<void> {
    await this.settleOrphan();
    await this.recoverSegments();
    const file = path.join(this.workDir, 'index.m3u8');
    const local = await readFile(file, 'utf8').catch(() => '');
    if (parsePlaylist(local).segments.length < parsePlaylist(this.lastPlaylist).segments.length) await writeFile(file, this.lastPlaylist);
  }

  /**
   * The FFmpeg a killed recorder left writing into this work directory (its pid in ffmpeg.pid) ends once its RTP
   * stops — the SFU detached it, or sends to this run's ports now — or is ended: one writer per playlist.
   */
  private async settleOrphan(): Promise<void> {
    const pid = Number(await readFile(path.join(this.workDir, 'ffmpeg.pid'), 'utf8').catch(() => ''));
    if (!pid || children.pids().includes(pid)) return;
    const alive = async () => (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(this.workDir);
    const t0 = Date.now();
    for (const [signal, waitMs] of [[null, ORPHAN_EXIT_MS / 2], ['SIGTERM', ORPHAN_EXIT_MS / 2], ['SIGKILL', 1000]] as const) {
      if (!(await alive())) break;
      if (signal) {
        this.deps.log.warn({ vod: this.info.vodId, pid, signal }, 'ending the FFmpeg a previous run left recording');
        try {
          process.kill(pid, signal);
        } catch {
          break; // it ended meanwhile
        }
      }
      for (const end = Date.now() + waitMs; Date.now() < end && (await alive()); ) await sleep(100);
    }
    this.deps.log.info({ vod: this.info.vodId, pid, ms: Date.now() - t0 }, 'the FFmpeg a previous run left has ended');
  }

  /**
   * Ends FFmpeg's input the way an RTP sender says goodbye: an RTCP BYE on every track's RTCP port. FFmpeg then ends
   * its input at once, as at the end of a file — it writes the segment in progress and the playlist — instead of
   * waiting INPUT_IDLE_SECONDS for its input to idle out (measured: the VoD is ready ~1 s sooner).
   */
  private async bye(): Promise<void> {
    const socket = dgram.createSocket('udp4');
    try {
      for (const t of this.tracks) {
        const target = this.targets[t.kind];
        if (!target) continue;
        // a compound packet, an empty receiver report then the BYE: FFmpeg drops RTP/RTCP datagrams under 12 bytes
        const packet = Buffer.alloc(16);
        packet.writeUInt8(0x80, 0); // version 2, no report blocks
        packet.writeUInt8(201, 1); // RR
        packet.writeUInt16BE(1, 2); // length in 32-bit words, minus one
        packet.writeUInt32BE(t.ssrc >>> 0, 4);
        packet.writeUInt8(0x81, 8); // version 2, one source
        packet.writeUInt8(203, 9); // BYE
        packet.writeUInt16BE(1, 10);
        packet.writeUInt32BE(t.ssrc >>> 0, 12);
        await new Promise<void>((resolve) => socket.send(packet, target.rtcpPort, target.ip, () => resolve()));
      }
    } finally {
      socket.close();
    }
  }

  /**
   * The SFU reports the media stopped (a publisher pause, a stall, a drop) or flows again. FFmpeg is ended at the
   * stop — it writes the segment in progress — and a new one continues the playlist after a discontinuity when the
   * media is back, so the gap is cut out of the VoD rather than left as a hole players stall on.
   */
  async media(flowing: boolean): Promise<void> {
    if (this.stopping || !this.started) return;
    this.paused = !flowing;
    const proc = this.proc;
    if (!flowing) {
      if (!running(proc)) return;
      this.deps.log.info({ vod: this.info.vodId }, 'recording paused: no media from the publisher');
      // FFmpeg reads nothing after the BYE: what comes next waits in the relays for the next one
      this.holdRelays();
      await this.bye();
      // only while still paused: an FFmpeg the media came back to before it ended records on
      setTimeout(() => this.paused && running(proc) && proc.kill('SIGTERM'), 3000);
      setTimeout(() => this.paused && running(proc) && proc.kill('SIGKILL'), 6000);
      return;
    }
    this.deps.log.info({ vod: this.info.vodId }, 'recording resumed: media flows again');
    // one FFmpeg at a time: one may have been started meanwhile (a restart after its input idled out)
    if (this.alive) return this.keyframe();
    await this.respawn();
  }

  /** Once FFmpeg listens on the tracks' ports, the relays hand it what they held (RTP sent earlier would be lost). */
  private async listening(): Promise<void> {
    await untilListening(this.tracks.map((t) => t.port), 5000);
    if (this.alive) for (const relay of this.relays.values()) relay.release();
  }

  private holdRelays() {
    for (const relay of this.relays.values()) relay.hold();
  }

  private keyframe(): Promise<void> {
    return this.deps.bus.publish('recorder.keyframe', { sessionId: this.info.sessionId });
  }

  /** A new FFmpeg into the same playlist, starting with a keyframe. */
  private async respawn(): Promise<void> {
    this.spawn();
    await this.listening();
    await this.keyframe();
  }

  private spawn() {
    const video = this.tracks.find((t) => t.kind === 'video');
    const audio = this.tracks.find((t) => t.kind === 'audio');
    const copy = video?.mimeType.toLowerCase() === 'video/h264';
    const out: string[] = [];
    if (video) {
      out.push('-map', '0:v:0');
      if (copy) out.push('-c:v', 'copy');
      // zerolatency: no lookahead or B-frames to flush, so the VoD is final about a second sooner
      // vfr, frames at their own times: an FFmpeg started before the publisher's video flows (it attaches as the
      // broadcast begins; a native publisher's audio comes seconds before its video) probes no frame rate and guesses
      // 90 000 fps, and constant-rate output at that rate duplicated frames by the ten thousand and wrote no segment
      // for the whole broadcast (measured with GStreamer's webrtcbin: 0 of 10 s recorded)
      else out.push('-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-crf', '23', '-pix_fmt', 'yuv420p', '-fps_mode', 'vfr', '-force_key_frames', `expr:gte(t,n_forced*${SEGMENT_SECONDS})`);
    }
    // aresample=async: should audio timestamps ever step (a publisher's clock, or an RTCP sender report, though the SFU
    // sends the recorder none), the resampler keeps them monotonic (a player would hear nothing of it)
    if (audio) out.push('-map', '0:a:0', '-af', 'aresample=async=1', '-c:a', 'aac', '-b:a', '128k', '-ar', '48000');
    // An FFmpeg continuing the playlist starts its timestamps where the recording so far ends: a player, or a decoder
    // reading the VoD whole, never sees time run backwards at the discontinuity.
    const append = this.spawned > 0;
    if (append) out.push('-output_ts_offset', (this.recordedSeconds() + 1).toFixed(3));
    const cmd = ffmpeg({ stdoutLines: 0 })
      .input(path.join(this.workDir, 'input.sdp'))
      // -listen_timeout: one second without any RTP ends the input like the end of a file, so when the broadcast
      // ends FFmpeg finishes its last segment and writes the final playlist by itself
      // -buffer_size: the RTP demuxer has no retransmission, so a keyframe's burst of packets must fit the socket's
      // receive buffer while FFmpeg is busy writing a segment (the kernel caps it at net.core.rmem_max)
      .inputOptions(['-protocol_whitelist', 'file,udp,rtp', '-listen_timeout', String(INPUT_IDLE_SECONDS), '-buffer_size', String(RTP_RECEIVE_BUFFER), '-analyzeduration', '3000000', '-probesize', '10000000', '-fflags', '+genpts'])
      .output(path.join(this.workDir, 'index.m3u8'))
      .outputOptions([
        '-hide_banner', '-loglevel', 'warning', '-nostats', ...out,
        '-f', 'hls', '-hls_time', String(SEGMENT_SECONDS), '-hls_list_size', '0', '-hls_playlist_type', 'event',
        // after a restart: continue the same playlist (numbering, a discontinuity), never rewrite what is there
        '-hls_flags', `independent_segments+temp_file+program_date_time${append ? '+append_list+discont_start' : ''}`,
        '-hls_segment_filename', path.join(this.workDir, 'seg-%05d.ts'),
      ]);
    this.spawned++;
    let idled = false;
    this.alive = true;
    this.holdRelays(); // until it listens
    this.exited = new Promise((resolve) => {
      cmd.on('start', () => {
        this.proc = (cmd as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
        if (this.proc) children.add(this.proc);
        // a recorder killed -9 leaves this FFmpeg behind: the next run finds it here (adopt)
        if (this.proc?.pid) void writeFile(path.join(this.workDir, 'ffmpeg.pid'), String(this.proc.pid)).catch(() => undefined);
        this.deps.log.debug({ vod: this.info.vodId, pid: this.proc?.pid, copy }, 'recording FFmpeg started');
      });
      cmd.on('stderr', (line: string) => {
        this.stderrTail.push(line);
        if (this.stderrTail.length > 20) this.stderrTail.shift();
        this.deps.log.trace({ vod: this.info.vodId, line }, 'ffmpeg stderr');
        // The input idled out (the publisher paused its tracks, or dropped) while the broadcast goes on: FFmpeg has
        // flushed its last segment, but it does not always exit — with a decoder (VP8) it reads on and discards
        // everything after the gap. Ended here, it restarts into the same playlist when the media comes back.
        if (!idled && !this.stopping && /Connection timed out/.test(line)) {
          idled = true;
          this.holdRelays();
          const proc = this.proc;
          setTimeout(() => {
            if (running(proc) && !this.stopping) {
              proc.kill('SIGTERM');
              setTimeout(() => running(proc) && proc.kill('SIGKILL'), 2000);
            }
          }, IDLE_EXIT_GRACE_MS);
        }
      });
      const done = (err?: Error) => {
        this.alive = false;
        this.holdRelays();
        if (this.proc) children.delete(this.proc);
        resolve();
        if (this.stopping) return;
        if (this.paused) {
          this.deps.log.debug({ vod: this.info.vodId }, 'recording FFmpeg ended for the pause');
          return;
        }
        if (idled) {
          // waiting for media, not failing: no restart budget spent
          this.deps.log.debug({ vod: this.info.vodId }, 'recording input idle; FFmpeg restarts to wait for the media');
        } else {
          // FFmpeg died mid-broadcast: keep what is written, and record on into the same playlist
          this.deps.log.warn({ vod: this.info.vodId, err: err?.message, stderr: this.stderrTail.join('\n'), restarts: this.restarts }, 'recording FFmpeg exited');
          if (this.restarts++ >= MAX_RESTARTS) return;
        }
        setTimeout(() => {
          if (this.stopping || this.paused || this.alive) return;
          void this.respawn();
        }, 200);
      };
      cmd.on('end', () => done());
      cmd.on('error', (err: Error) => done(err));
    });
    cmd.run();
  }

  /** The duration of what the work directory's playlist lists (what FFmpeg appends to). */
  private recordedSeconds(): number {
    let text = '';
    try {
      text = readFileSync(path.join(this.workDir, 'index.m3u8'), 'utf8');
    } catch {
      // none yet
    }
    if (parsePlaylist(text).segments.length < parsePlaylist(this.lastPlaylist).segments.length) text = this.lastPlaylist;
    return durationMs(parsePlaylist(text)) / 1000;
  }

  /**
   * Uploads new segments, then the playlist naming them. Runs one at a time; resolves false when the object store
   * failed, and the uploader then backs off (UPLOAD_RETRY_FIRST_MS doubling to UPLOAD_RETRY_MAX_MS) before the next try.
   */
  private sync(final = false): Promise<boolean> {
    const run = this.syncing.then(async () => {
      try {
        await this.syncOnce(final);
        if (this.failures) this.deps.log.info({ vod: this.info.vodId, failures: this.failures }, 'recording uploads stored again');
        this.failures = 0;
        this.retryAt = 0;
        return true;
      } catch (err) {
        const delay = Math.min(UPLOAD_RETRY_FIRST_MS * 2 ** this.failures++, UPLOAD_RETRY_MAX_MS);
        this.retryAt = Date.now() + delay;
        this.deps.log.warn({ err, vod: this.info.vodId, failures: this.failures, retryMs: delay }, 'recording upload failed; will retry');
        return false;
      }
    });
    this.syncing = run.then(() => undefined);
    return run;
  }

  private async syncOnce(final: boolean) {
    // nothing written yet, or an adopted recording whose work directory is gone (what it stored is the playlist)
    let text = await readFile(path.join(this.workDir, 'index.m3u8'), 'utf8').catch(() => this.lastPlaylist);
    if (!text) return;
    // what readers may see: no empty segment an FFmpeg that got no media listed, ENDLIST only at the very end
    text = playable(text, final);
    // a playlist caught mid-rewrite (or truncated by a dying FFmpeg) must never replace a longer one
    if (parsePlaylist(text).segments.length < parsePlaylist(this.lastPlaylist).segments.length) {
      this.deps.log.debug({ vod: this.info.vodId, bytes: text.length }, 'ignoring a shorter playlist read');
      text = playable(this.lastPlaylist, final);
    }
    if (text === this.lastPlaylist) return;
    const playlist = parsePlaylist(text);
    if (!playlist.segments.length) return; // nothing to play yet: the playlist stays unpublished
    for (const seg of playlist.segments) {
      if (this.uploaded.has(seg.uri)) continue;
      const body = await readFile(path.join(this.workDir, seg.uri));
      await this.deps.store.put(this.info.prefix + seg.uri, body, CONTENT_TYPES.ts!);
      this.uploaded.set(seg.uri, body.byteLength);
      this.restarts = 0; // FFmpeg is producing: restarts count again from here
    }
    await this.deps.store.put(`${this.info.prefix}index.m3u8`, new TextEncoder().encode(text), CONTENT_TYPES.m3u8!);
    const first = !this.lastPlaylist && playlist.segments.length > 0;
    this.lastPlaylist = text;
    if (first && !final) void this.preview();
  }

  get sizeBytes() {
    return [...this.uploaded.values()].reduce((a, b) => a + b, 0);
  }

  /**
   * Ends the recording: FFmpeg finishes its last segment (its input idles out; signals if it hangs), the rest is
   * uploaded and the playlist gets #EXT-X-ENDLIST. Returns the VoD's duration and size; finish() makes the poster.
   */
  async stop(): Promise<{ durationMs: number; sizeBytes: number; segments: number }> {
    this.stopping = true;
    this.wake?.();
    await this.starting.catch(() => undefined);
    clearInterval(this.keyframeTimer);
    clearInterval(this.syncTimer);
    clearInterval(this.previewTimer);
    // `alive`, not the child: one spawned a moment ago (a restart) has no process handle until it starts
    if (this.alive) {
      // The SFU has stopped sending: the BYE ends FFmpeg's input (or it idles out after INPUT_IDLE_SECONDS), and it
      // writes the last segment and the final playlist. Signals are the fallback only: FFmpeg blocked in its RTP read
      // ignores a first one, and a second aborts the final playlist write (leaving it empty; sync() then keeps the
      // last good one). The first comes right after the input would have idled out, so the end is never held long.
      const t0 = Date.now();
      // FFmpeg reads a BYE before the RTP still waiting in its sockets, and ends that track there: a busy FFmpeg lost
      // the broadcast's last second (1.2 s of an H.264 recording on a loaded machine). So the relays hand over what
      // they hold and the sockets on the way are read empty first (the SFU has stopped sending).
      const ports = [...this.tracks.map((t) => t.port), ...[...this.relays.values()].map((r) => r.port)];
      for (let round = 0; round < 2; round++) {
        for (const relay of this.relays.values()) await relay.settle();
        await untilRead(ports, DRAIN_BEFORE_BYE_MS);
      }
      await this.bye();
      void this.exited.then(() => this.deps.log.debug({ vod: this.info.vodId, ms: Date.now() - t0, code: this.proc?.exitCode, signal: this.proc?.signalCode }, 'recording FFmpeg stopped'));
      const signal = (name: NodeJS.Signals) => () => running(this.proc) && this.proc.kill(name);
      const term = setTimeout(signal('SIGINT'), (INPUT_IDLE_SECONDS + STOP_GRACE_SECONDS) * 1000);
      const kill = setTimeout(signal('SIGKILL'), (INPUT_IDLE_SECONDS + 2 * STOP_GRACE_SECONDS) * 1000);
      await this.exited;
      clearTimeout(term);
      clearTimeout(kill);
    }
    for (const [kind, relay] of this.relays) {
      const { packets, reordered, lost, late, overflow } = relay.counts;
      if (reordered || lost || late || overflow) this.deps.log.info({ vod: this.info.vodId, kind, packets, reordered, lost, late, overflow }, 'recording RTP repaired on the way');
      relay.close();
    }
    this.relays.clear();
    if (this.adopted && !this.started) await this.settleOrphan();
    await this.recoverSegments();
    // nothing is lost to an object store that is away: the last uploads are retried until stored, and only then may
    // finish() remove the work directory
    while (!(await this.sync(true))) await sleep(Math.max(0, this.retryAt - Date.now()));
    this.deps.log.debug({ vod: this.info.vodId, playlist: this.lastPlaylist.length, uploaded: this.uploaded.size }, 'recording final sync');
    const playlist = parsePlaylist(this.lastPlaylist);
    return { durationMs: durationMs(playlist), sizeBytes: this.sizeBytes, segments: playlist.segments.length };
  }

  /** After stop(): a poster from the middle of the recording, then the work directory goes. */
  async finish(): Promise<string | null> {
    const { segments } = parsePlaylist(this.lastPlaylist);
    const posterKey = segments.length ? await this.poster(segments[Math.floor(segments.length / 2)]!.uri).catch(() => null) : null;
    await rm(this.workDir, { recursive: true, force: true });
    await this.deps.store.delete(previewKey(this.info.sessionId)).catch(() => undefined); // the channel is offline
    return posterKey;
  }

  /**
   * Segments FFmpeg finished but never listed (it was killed, or its last playlist write failed): appended to the
   * playlist on disk with their probed durations, so everything written stays playable.
   */
  private async recoverSegments() {
    const file = path.join(this.workDir, 'index.m3u8');
    let text = await readFile(file, 'utf8').catch(() => '');
    if (parsePlaylist(text).segments.length < parsePlaylist(this.lastPlaylist).segments.length) text = this.lastPlaylist;
    if (!text) return;
    const listed = new Set(parsePlaylist(text).segments.map((s) => s.uri));
    const last = Math.max(-1, ...[...listed].map((u) => Number(/seg-(\d+)\.ts$/.exec(u)?.[1] ?? -1)));
    const onDisk = (await readdir(this.workDir).catch(() => [])).filter((f) => /^seg-\d{5}\.ts$/.test(f) && !listed.has(f) && Number(f.slice(4, 9)) > last).sort();
    if (!onDisk.length) return;
    let extra = '';
    for (const seg of onDisk) {
      const seconds = await probeDuration(path.join(this.workDir, seg));
      if (seconds > 0) extra += `#EXTINF:${seconds.toFixed(6)},\n${seg}\n`;
    }
    if (extra) await writeFile(file, `${text.replace(/#EXT-X-ENDLIST\s*$/, '').replace(/\s*$/, '\n')}${extra}`);
    this.deps.log.info({ vod: this.info.vodId, segments: onDisk }, 'recovered segments missing from the playlist');
  }

  /** A JPEG from the middle of a segment, as the VoD's poster. */
  private async poster(segment: string): Promise<string | null> {
    if (!this.tracks.some((t) => t.kind === 'video') && !this.kinds.includes('video')) return null;
    const file = path.join(this.workDir, 'poster.jpg');
    if (!(await frameOf(path.join(this.workDir, segment), file))) return null;
    const key = `${this.info.prefix}poster.jpg`;
    await this.deps.store.put(key, await readFile(file), CONTENT_TYPES.jpg!);
    return key;
  }
}
