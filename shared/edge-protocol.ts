// The edge ↔ origin protocol between SFU nodes (sfu/cluster/EdgePull.ts): a node asked for a broadcast it does not
// hold (an edge) asks the node receiving it (the origin) for a pipe carrying every track. One request carries the
// edge's end of the pipe, its reply the origin's and what each track carries; after that either side may end the pipe
// by its id. The events travel on the bus (shared/bus.ts takes its entries from EdgeEvents).

/** One end of a pipe: where it listens and the SRTP key the other end encrypts with (mediasoup's srtpParameters). */
export type PipeEnd = { ip: string; port: number; srtp: { cryptoSuite: string; keyBase64: string } };

/** One track the origin sends through a pipe: its pipe consumer's kind and RTP parameters (mediasoup's, as JSON). */
export type PipedTrack = { kind: 'audio' | 'video'; rtpParameters: Record<string, unknown>; paused: boolean };

export type EdgeEvents = {
  /** edge → origin: pipe the channel's broadcast to `edge` (a node id) at `end`. Answered by edge.piped. */
  'edge.pull': { requestId: string; channelId: string; edge: string; end: PipeEnd };
  /** origin → edge: the pipe's id, the origin's end of it and its tracks, or why not. */
  'edge.piped': { requestId: string; error?: string; pipeId: string; end: PipeEnd | null; tracks: PipedTrack[] };
  /** edge → origin: the pipe's last viewer left (or the edge closes); the origin closes its end. */
  'edge.release': { pipeId: string };
  /** edge → origin: how many watch through the pipe now (the channel's viewer count is the origin's and its edges'). */
  'edge.viewers': { pipeId: string; viewers: number };
  /** origin → edge: the pipe's tracks are gone (the publisher dropped, the broadcast ended); the edge closes its relay. */
  'edge.unpiped': { pipeId: string };
};
