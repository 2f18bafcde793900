// WHEP playback client: offer to receive audio and video, POST it, apply the answer. No trickle: the SFU is
// ICE-lite and its answer carries every candidate, so the offer is sent once ICE gathering completes (≤ 2 s).

export class WhepError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type Playback = { pc: RTCPeerConnection; stream: MediaStream; stop(): Promise<void> };

async function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve) => {
    const done = () => pc.iceGatheringState === 'complete' && resolve();
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, 2000);
  });
}

/** Starts playing `slug`; throws WhepError (404 when the channel is offline). */
export async function play(slug: string): Promise<Playback> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  const stream = new MediaStream();
  pc.addEventListener('track', (e) => stream.addTrack(e.track));
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const res = await fetch(`/whep/${encodeURIComponent(slug)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: pc.localDescription!.sdp,
    });
    const body = await res.text();
    if (res.status !== 201) {
      let detail = body;
      try {
        detail = (JSON.parse(body) as { detail?: string }).detail ?? body;
      } catch {
        // not problem+json
      }
      throw new WhepError(res.status, detail || `WHEP answered ${res.status}`);
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    const location = res.headers.get('location');
    return {
      pc,
      stream,
      // DELETE first: the server then ends the session at once instead of treating the closed connection as a drop
      stop: async () => {
        if (location) await fetch(location, { method: 'DELETE' }).catch(() => undefined);
        pc.close();
      },
    };
  } catch (err) {
    pc.close();
    throw err;
  }
}

/** Frames decoded and audio packets received so far (for the player's health and for tests). */
export async function inboundStats(pc: RTCPeerConnection): Promise<{ framesDecoded: number; audioPackets: number }> {
  let framesDecoded = 0;
  let audioPackets = 0;
  (await pc.getStats()).forEach((s: { type: string; kind?: string; framesDecoded?: number; packetsReceived?: number }) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded = s.framesDecoded ?? 0;
    if (s.type === 'inbound-rtp' && s.kind === 'audio') audioPackets = s.packetsReceived ?? 0;
  });
  return { framesDecoded, audioPackets };
}
