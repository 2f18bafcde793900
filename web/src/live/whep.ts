// WHEP playback client: offer to receive audio and video; 404 (WhipWhepError) means the channel is offline. A session
// also names its layer selection (the SFU's /whep/…/layers, linked from the answer): the quality menu's simulcast layers.
import { negotiate, WhipWhepError } from './negotiate.ts';

export { WhipWhepError as WhepError } from './negotiate.ts';

/** A layer's place: spatial (resolution) and temporal (frame rate) index, lowest 0. */
export type Layer = { spatialLayer: number; temporalLayer?: number };
/** What GET/POST /whep/…/layers answer. */
export type Layers = {
  layers: { spatialLayer: number; rid: string | null; bitrate: number }[];
  temporalLayers: number;
  /** null: auto */
  preferred: Layer | null;
  current: Layer | null;
};

export type Playback = {
  pc: RTCPeerConnection;
  stream: MediaStream;
  /** the session's layer selection URL (null when the server offers none) */
  layersUrl: string | null;
  stop(): Promise<void>;
};

const LAYER_REL = 'urn:ietf:params:whep:ext:core:layer';

/** The URL of the Link header entry with `rel`, resolved against `base`. */
function linked(links: string | null, rel: string, base: string): string | null {
  for (const part of (links ?? '').split(',')) {
    const m = /<([^>]+)>\s*;(.*)$/.exec(part.trim());
    if (m && m[2]!.split(';').some((p) => p.trim() === `rel="${rel}"` || p.trim() === `rel=${rel}`)) return new URL(m[1]!, base).pathname;
  }
  return null;
}

export async function play(slug: string): Promise<Playback> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  const stream = new MediaStream();
  pc.addEventListener('track', (e) => stream.addTrack(e.track));
  const session = await negotiate(pc, `/whep/${encodeURIComponent(slug)}`);
  return { pc, stream, layersUrl: linked(session.links, LAYER_REL, location.href), stop: session.stop };
}

async function layersCall(url: string, init?: RequestInit): Promise<Layers> {
  const res = await fetch(url, init);
  if (!res.ok) {
    const detail = await res.json().then((b: { detail?: string }) => b.detail, () => undefined);
    throw new WhipWhepError(res.status, detail ?? `${url} answered ${res.status}`);
  }
  return (await res.json()) as Layers;
}

/** The session's layers and the one it receives. */
export const getLayers = (url: string) => layersCall(url);

/** Prefers one layer (mediasoup's preferred layers), or `auto` (the SFU adapts to the bandwidth again). */
export const chooseLayer = (url: string, choice: Layer | 'auto') =>
  layersCall(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(choice === 'auto' ? { auto: true } : choice) });
