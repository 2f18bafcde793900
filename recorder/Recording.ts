// One live session being recorded, its lifecycle: attach to the SFU (shared/recorder-protocol.ts), FFmpeg (started,
// restarted after a crash or a pause, ended with an RTCP BYE), and recovery of what a killed run left open. FFmpeg
// writes ~2 s HLS segments into a work directory; the RTP plumbing is in rtp.ts, the uploads in uploader.ts, the
// preview and poster in thumbnails.ts.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import type { EventBus } from '../shared/bus.ts';
import { ChildGroup } from '../shared/children.ts';
import { FfmpegProcess } from '../shared/ffmpeg.ts';
import type { Logger } from '../shared/logger.ts';
import { request, type RecordedTrack, type RtpTargets } from '../shared/recorder-protocol.ts';
import type { ObjectStore } from '../shared/storage.ts';
import { RTP_RECEIVE_BUFFER, RtpRelay } from './rtp-relay.ts';
import { durationMs, parsePlaylist } from './hls.ts';
import { bye, portPair, sdpFor, untilListening, untilRead, type ListenedTrack } from './rtp.ts';
import { PREVIEW_SECONDS, Thumbnails } from './thumbnails.ts';
import { Uploader } from './uploader.ts';

export const SEGMENT_SECONDS = 2;
const ATTACH_TIMEOUT_MS = 5000;
/** How long the SFU may take to confirm a detach (it only closes transports); the recording is over either way. */
const DETACH_TIMEOUT_MS = 2000;
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
/** After the BYE at a pause, how long FFmpeg may take to end by itself before it is signalled (then as long again
 * before it is killed). */
const PAUSE_EXIT_MS = 3000;
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

/** Asks the SFU (over the bus) to send this live session's tracks — named by its id, never by the channel, whose next
 * session may already be live — to `targets`; resolves with what each track carries. */
async function attach(bus: EventBus, sessionId: string, targets: RtpTargets): Promise<RecordedTrack[]> {
  return (await request(bus, 'recorder.attach', { sessionId, targets }, ATTACH_TIMEOUT_MS)).tracks;
}

export type RecordingInfo = { vodId: string; sessionId: string; slug: string; prefix: string };

export class Recording {
  /** the FFmpeg now recording (or the last one), from spawn to its exit */
  private proc: FfmpegProcess | undefined;
  private tracks: ListenedTrack[] = [];
  private kinds: ('audio' | 'video')[] = [];
  /** attached and recording (false while waiting for a publisher who left before the recording could attach) */
  private started = false;
  private starting: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  /** where the SFU sends each track: its relay, which passes it on to FFmpeg's port */
  private targets: RtpTargets = { audio: undefined, video: undefined };
  /** FFmpeg's RTP port for each track (RTCP on the next one) */
  private ports: Record<'audio' | 'video', number | undefined> = { audio: undefined, video: undefined };
  /**
   * Every track passes through a relay in this process (rtp-relay.ts): in sequence order, held while no FFmpeg
   * listens, an H.264 picture as one access unit; and when this process dies its FFmpeg's input stops with it, so
   * that FFmpeg finishes its segment and exits instead of recording one track on alone.
   */
  private readonly relays = new Map<'audio' | 'video', RtpRelay>();
  private keyframeTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private previewTimer: NodeJS.Timeout | undefined;
  private readonly uploader: Uploader;
  private readonly thumbnails: Thumbnails;
  private readonly log: Logger;
  private restarts = 0;
  private spawned = 0;
  /** the recording continues one a previous run left open (adopt()): same VoD, same work directory */
  private adopted = false;
  private stopping = false;
  /** the SFU was asked for the media (it may have attached even if this recording never started): stop() detaches */
  private asked = false;
  /** the SFU reported the publisher's media stopped: FFmpeg is ended, and started again when it flows */
  private paused = false;
  /** an FFmpeg was spawned and has not exited (set at once, unlike its process, which arrives with its start event) */
  private alive = false;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly info: RecordingInfo,
    private readonly workDir: string,
    private readonly deps: { bus: EventBus; store: ObjectStore; log: Logger; rtpIp: string },
  ) {
    this.log = deps.log.child({ vod: info.vodId });
    this.uploader = new Uploader(workDir, info.prefix, deps.store, this.log);
    this.thumbnails = new Thumbnails(workDir, deps.store, info.sessionId, this.log);
    this.uploader.onSegment = () => (this.restarts = 0); // FFmpeg is producing: restarts count again from here
    this.uploader.onFirst = () => void this.preview();
  }

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
          if (attempt === 1) this.log.info({ err: (err as Error).message }, 'recording cannot attach yet; retrying');
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
    const targets: RtpTargets = { audio: undefined, video: undefined };
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
    this.asked = true;
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
    if (this.adopted) {
      await this.settleOrphan();
      await this.uploader.continuePlaylist();
    }
    this.spawn();
    this.started = true;
    await this.listening();
    if (this.stopping) return;
    this.keyframeTimer = setInterval(() => void this.keyframe(), SEGMENT_SECONDS * 1000);
    this.syncTimer = setInterval(() => Date.now() >= this.uploader.retryAt && void this.uploader.sync(), SYNC_INTERVAL_MS);
    if (this.tracks.some((t) => t.kind === 'video')) this.previewTimer = setInterval(() => void this.preview(), PREVIEW_SECONDS * 1000);
  }

  /** The tracks the SFU sends from now on, each on FFmpeg's port for its kind. */
  private useTracks(tracks: RecordedTrack[]) {
    this.tracks = tracks.map((t) => ({ ...t, port: this.ports[t.kind]! }));
    for (const t of tracks) this.relays.get(t.kind)?.newStream(t.mimeType.toLowerCase() === 'video/h264');
  }

  /** The live channel's preview: a frame of the newest uploaded segment (first as soon as there is one). */
  private async preview() {
    if (this.stopping) return;
    await this.thumbnails.preview(parsePlaylist(this.uploader.lastPlaylist).segments.at(-1)?.uri);
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
      else void this.start(this.kinds).catch((err) => this.log.error({ err }, 'could not start recording'));
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
    this.log.info('recording the returning publisher');
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
    await this.uploader.adopt();
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
        this.log.warn({ pid, signal }, 'ending the FFmpeg a previous run left recording');
        try {
          process.kill(pid, signal);
        } catch {
          break; // it ended meanwhile
        }
      }
      for (const end = Date.now() + waitMs; Date.now() < end && (await alive()); ) await sleep(100);
    }
    this.log.info({ pid, ms: Date.now() - t0 }, 'the FFmpeg a previous run left has ended');
  }

  /** An RTCP BYE to FFmpeg on every track (rtp.ts): it ends its input at once, as at the end of a file. */
  private bye(): Promise<void> {
    return bye(this.tracks, this.targets);
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
      if (!proc?.running) return;
      this.log.info('recording paused: no media from the publisher');
      // FFmpeg reads nothing after the BYE: what comes next waits in the relays for the next one
      this.holdRelays();
      await this.bye();
      // only while still paused: an FFmpeg the media came back to before it ended records on
      void proc.stop({ graceMs: PAUSE_EXIT_MS, killMs: PAUSE_EXIT_MS, unless: () => !this.paused });
      return;
    }
    this.log.info('recording resumed: media flows again');
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
    if (append) out.push('-output_ts_offset', (this.uploader.recordedSeconds() + 1).toFixed(3));
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
    const proc = new FfmpegProcess(cmd, {
      group: children,
      log: this.log,
      what: 'recording FFmpeg',
      // a recorder killed -9 leaves this FFmpeg behind: the next run finds it here (adopt)
      onStart: (pid) => pid && void writeFile(path.join(this.workDir, 'ffmpeg.pid'), String(pid)).catch(() => undefined),
      onStderr: (line) => {
        // The input idled out (the publisher paused its tracks, or dropped) while the broadcast goes on: FFmpeg has
        // flushed its last segment, but it does not always exit — with a decoder (VP8) it reads on and discards
        // everything after the gap. Ended here, it restarts into the same playlist when the media comes back.
        if (!idled && !this.stopping && /Connection timed out/.test(line)) {
          idled = true;
          this.holdRelays();
          void proc.stop({ graceMs: IDLE_EXIT_GRACE_MS, killMs: 2000, unless: () => this.stopping });
        }
      },
    });
    this.proc = proc;
    this.exited = proc.exited.then(({ error, command, stderr }) => {
      this.alive = false;
      this.holdRelays();
      if (this.stopping) return;
      if (this.paused) {
        this.log.debug('recording FFmpeg ended for the pause');
        return;
      }
      if (idled) {
        // waiting for media, not failing: no restart budget spent
        this.log.debug('recording input idle; FFmpeg restarts to wait for the media');
      } else {
        // FFmpeg died mid-broadcast: keep what is written, and record on into the same playlist
        this.log.warn({ err: error?.message, cmd: command, stderr, restarts: this.restarts }, 'recording FFmpeg exited');
        if (this.restarts++ >= MAX_RESTARTS) return;
      }
      setTimeout(() => {
        if (this.stopping || this.paused || this.alive) return;
        void this.respawn();
      }, 200);
    });
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
      const first = async () => {
        // FFmpeg reads a BYE before the RTP still waiting in its sockets, and ends that track there: a busy FFmpeg lost
        // the broadcast's last second (1.2 s of an H.264 recording on a loaded machine). So the relays hand over what
        // they hold and the sockets on the way are read empty first (the SFU has stopped sending).
        const ports = [...this.tracks.map((t) => t.port), ...[...this.relays.values()].map((r) => r.port)];
        // twice: what a relay's socket still held when it settled reaches FFmpeg's socket in the first round
        for (let round = 0; round < 2; round++) {
          for (const relay of this.relays.values()) await relay.settle();
          await untilRead(ports, DRAIN_BEFORE_BYE_MS);
        }
        await this.bye();
      };
      const exit = await this.proc!.stop({ first, graceMs: (INPUT_IDLE_SECONDS + STOP_GRACE_SECONDS) * 1000, signal: 'SIGINT', killMs: STOP_GRACE_SECONDS * 1000 });
      this.log.debug({ ms: Date.now() - t0, code: exit.code, signal: exit.signal }, 'recording FFmpeg stopped');
      await this.exited;
    }
    // The SFU stops this recording's feed now, not when a heartbeat next misses the session
    // (the broadcast may go on: the recorder is closing). Not awaited: an SFU that is gone must not hold the VoD back.
    if (this.asked) void request(this.deps.bus, 'recorder.detach', { sessionId: this.info.sessionId }, DETACH_TIMEOUT_MS).catch(() => undefined);
    for (const [kind, relay] of this.relays) {
      const { packets, reordered, lost, late, overflow } = relay.counts;
      if (reordered || lost || late || overflow) this.log.info({ kind, packets, reordered, lost, late, overflow }, 'recording RTP repaired on the way');
      relay.close();
    }
    this.relays.clear();
    if (this.adopted && !this.started) await this.settleOrphan();
    await this.uploader.recoverSegments();
    // nothing is lost to an object store that is away: the last uploads are retried until stored, and only then may
    // finish() remove the work directory
    await this.uploader.syncFinal();
    const playlist = parsePlaylist(this.uploader.lastPlaylist);
    this.log.debug({ playlist: this.uploader.lastPlaylist.length, uploaded: playlist.segments.length }, 'recording final sync');
    return { durationMs: durationMs(playlist), sizeBytes: this.uploader.sizeBytes, segments: playlist.segments.length };
  }

  /** After stop(): a poster from the middle of the recording, then the work directory goes. */
  async finish(): Promise<string | null> {
    const { segments } = parsePlaylist(this.uploader.lastPlaylist);
    const video = this.tracks.some((t) => t.kind === 'video') || this.kinds.includes('video');
    const middle = segments[Math.floor(segments.length / 2)]?.uri;
    const posterKey = video && middle ? await this.thumbnails.poster(middle, this.info.prefix).catch(() => null) : null;
    await rm(this.workDir, { recursive: true, force: true });
    await this.thumbnails.removePreview(); // the channel is offline
    return posterKey;
  }
}
