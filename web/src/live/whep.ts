// WHEP playback client: offer to receive audio and video; 404 (WhipWhepError) means the channel is offline.
import { negotiate } from './negotiate.ts';

export { WhipWhepError as WhepError } from './negotiate.ts';

export type Playback = { pc: RTCPeerConnection; stream: MediaStream; stop(): Promise<void> };

export async function play(slug: string): Promise<Playback> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  const stream = new MediaStream();
  pc.addEventListener('track', (e) => stream.addTrack(e.track));
  const session = await negotiate(pc, `/whep/${encodeURIComponent(slug)}`);
  return { pc, stream, stop: session.stop };
}
