// The broadcast the studio started, held here and not in the studio page so that it outlives the page: navigating
// within the app unmounts the studio but not this module, so the WHIP session and its camera stay on air, the header's
// pill (components/live-pill.tsx) says so, and the studio shows the same stream again when it mounts. Only leaving the
// app (a reload, another site, closing the tab) ends it, and a beforeunload warning guards that while live.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { publish, type Publication } from './whip.ts';

export type LiveBroadcast = {
  slug: string;
  pub: Publication;
  stream: MediaStream;
  since: number;
  state: RTCPeerConnectionState;
  /** the live session the SFU opened for it (null if it could not be read) */
  session: Promise<string | null>;
  /** the stream key it was published with: the WHIP session's credential (for its stats, and its DELETE) */
  token: string;
};

/** One stream as the SFU receives it (sfu/Room.ts ReceivedStream). */
export type ReceivedStream = { kind: string; rid: string | null; bitrate: number; packetCount: number; packetsLost: number; fractionLost: number; score: number };

let current: LiveBroadcast | null = null;
const listeners = new Set<() => void>();
const changed = () => {
  for (const l of listeners) l();
};

// a reload or leaving the app would end the broadcast: the browser asks first
const warn = (e: BeforeUnloadEvent) => {
  e.preventDefault();
  e.returnValue = '';
};

/** The broadcast on air from this tab, if any. */
export const currentBroadcast = () => current;

/** The broadcast on air from this tab, re-rendering the caller when it starts, changes state or ends. */
export function useBroadcast(): LiveBroadcast | null {
  const [, rerender] = useState(0);
  useEffect(() => {
    const l = () => rerender((n) => n + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return current;
}

/** Publishes `stream` over WHIP; from here on the broadcast owns the stream (ending it stops its tracks). */
export async function startBroadcast(opts: { slug: string; token: string; stream: MediaStream; codec: 'VP8' | 'H264'; simulcast: boolean }): Promise<LiveBroadcast> {
  if (current) throw new Error(`You are already live on /c/${current.slug}; end that broadcast first.`);
  const pub = await publish(opts);
  // the SFU records the live session before it answers the offer, so it can be read at once
  const session = api.broadcast(opts.slug).then((b) => b.live?.sessionId ?? null, () => null);
  const b: LiveBroadcast = { slug: opts.slug, pub, stream: opts.stream, since: Date.now(), state: pub.pc.connectionState, session, token: opts.token };
  pub.pc.addEventListener('connectionstatechange', () => {
    b.state = pub.pc.connectionState;
    changed();
  });
  current = b;
  addEventListener('beforeunload', warn);
  changed();
  return b;
}

/** Ends the broadcast (WHIP DELETE, camera off); resolves to the one that ended, or null if none was on air. */
export async function endBroadcast(): Promise<LiveBroadcast | null> {
  const b = current;
  if (!b) return null;
  current = null;
  removeEventListener('beforeunload', warn);
  changed();
  await b.pub.stop();
  for (const t of b.stream.getTracks()) t.stop();
  return b;
}

/** What the SFU receives of the broadcast now (its WHIP session's stats, read with the same stream key). */
export async function received(b: LiveBroadcast, signal?: AbortSignal): Promise<ReceivedStream[]> {
  if (!b.pub.resource) return [];
  const res = await fetch(`${b.pub.resource}/stats`, { headers: { authorization: `Bearer ${b.token}` }, signal });
  if (!res.ok) return [];
  return ((await res.json()) as { streams: ReceivedStream[] }).streams;
}
