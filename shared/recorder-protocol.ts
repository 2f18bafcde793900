// The recorder ↔ SFU protocol, whole: the recorder asks for a live session's media as plain RTP to ports it listens
// on, and everything after (resume, keyframes, media pauses, the end) is addressed by that session's id. The events
// travel on the bus (shared/bus.ts takes its entries from RecorderEvents, and this module does not import it back), so
// the recorder may run in another process; a request is answered by its reply event carrying the same requestId.

/** How often a recorder names the sessions it records (recorder.heartbeat). */
export const RECORDER_HEARTBEAT_MS = 2000;
/** A recording not named in a heartbeat for this long is detached by the SFU: five heartbeats missed, not one late. */
export const RECORDER_GONE_MS = 10_000;

export type RtpTarget = { ip: string; port: number; rtcpPort: number };
export type RecordedTrack = {
  kind: 'audio' | 'video';
  mimeType: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  parameters: Record<string, string | number>;
  ssrc: number;
};
export type RtpTargets = Record<'audio' | 'video', RtpTarget | undefined>;

export type RecorderEvents = {
  /** recorder → SFU: send this session's tracks to these ports (from recorder.resume on: the SFU holds them since the
   * publisher's first packet, sfu/RecordingFeed.ts). Answered by recorder.attached. */
  'recorder.attach': { requestId: string; sessionId: string; targets: RtpTargets };
  /** SFU → recorder: what each track will carry (for the SDP FFmpeg reads), or why not. */
  'recorder.attached': { requestId: string; error?: string; tracks: RecordedTrack[] };
  /** recorder → SFU: start sending, what was held first (the recorder listens); `keyframe` asks the video for one. */
  'recorder.resume': { sessionId: string };
  'recorder.keyframe': { sessionId: string };
  /** SFU → recorder: the recorded media stopped (the publisher paused its tracks, or dropped) or flows again. */
  'recorder.media': { sessionId: string; flowing: boolean };
  /** recorder → SFU: this session's recording stopped; the SFU stops sending it now, not when the heartbeat next
   * misses it (RECORDER_GONE_MS later). Answered by recorder.detach-done. */
  'recorder.detach': { requestId: string; sessionId: string };
  'recorder.detach-done': { requestId: string; error?: string };
  /** recorder → SFU, every RECORDER_HEARTBEAT_MS: the sessions it still records. A recording not named for
   * RECORDER_GONE_MS is no longer sent (its recorder died); attaching again restores it. */
  'recorder.heartbeat': { sessions: string[] };
  /** SFU → recorder: a heartbeat named a session whose recording the SFU had detached for silence (the recorder was
   * only cut off, e.g. Redis away): attach again. */
  'recorder.detached': { sessionId: string };
};

/** The requests and the event answering each. */
const REPLIES = { 'recorder.attach': 'recorder.attached', 'recorder.detach': 'recorder.detach-done' } as const;
type Requests = typeof REPLIES;
export type RecorderRequest = keyof Requests;
type Reply<R extends RecorderRequest> = RecorderEvents[Requests[R]];

/** What the protocol needs of the bus: an EventBus is one (declared here so that this module does not import bus.ts). */
export type ProtocolBus = {
  publish<K extends keyof RecorderEvents>(event: K, payload: RecorderEvents[K]): Promise<void>;
  subscribe<K extends keyof RecorderEvents>(event: K, handler: (payload: RecorderEvents[K]) => void): () => void;
};
/** The same bus, untyped: a request's name cannot be followed to its reply's type through the generic methods. */
type Untyped = { publish(event: string, payload: unknown): Promise<void>; subscribe(event: string, handler: (payload: never) => void): () => void };
type Body<R extends RecorderRequest> = Omit<Reply<R>, 'requestId' | 'error'>;

/** How long a request waits for its reply by default: the SFU answers in milliseconds unless it is gone. */
export const REQUEST_TIMEOUT_MS = 5000;

/**
 * Sends a request and resolves with its reply (the one carrying its requestId); rejects with the reply's `error`, or
 * when none came within `timeoutMs`.
 */
export function request<R extends RecorderRequest>(bus: ProtocolBus, name: R, payload: Omit<RecorderEvents[R], 'requestId'>, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Reply<R>> {
  const requestId = crypto.randomUUID();
  const untyped = bus as unknown as Untyped;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`the SFU did not answer the ${name.slice('recorder.'.length)} request`));
    }, timeoutMs);
    const off = untyped.subscribe(REPLIES[name], (reply: Reply<R>) => {
      if (reply.requestId !== requestId) return;
      clearTimeout(timer);
      off();
      if (reply.error) reject(new Error(reply.error));
      else resolve(reply);
    });
    void untyped.publish(name, { ...payload, requestId });
  });
}

/**
 * The SFU's side of a request: runs `handle` on each and publishes its result (or its error's message) as the reply;
 * `mine` says which requests are this process's to answer (all when unset).
 * Returns the unsubscribe function.
 */
export function answer<R extends RecorderRequest>(bus: ProtocolBus, name: R, handle: (payload: RecorderEvents[R]) => Promise<Body<R>>, failed: Body<R>, mine?: (payload: RecorderEvents[R]) => boolean): () => void {
  const untyped = bus as unknown as Untyped;
  return untyped.subscribe(name, (payload: RecorderEvents[R]) => {
    // with many SFU nodes only the one holding the broadcast answers: the first reply wins, and another node's
    // "not here" would otherwise beat it
    if (mine && !mine(payload)) return;
    const reply = (body: Body<R> & { error?: string }) => void untyped.publish(REPLIES[name], { ...body, requestId: payload.requestId });
    handle(payload).then(reply, (err: Error) => reply({ ...failed, error: err.message }));
  });
}
