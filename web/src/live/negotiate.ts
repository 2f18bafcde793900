// The offer/answer exchange WHIP and WHEP share: wait for ICE gathering (≤ 2 s; the SFU is ICE-lite and takes no
// trickle), POST the offer as application/sdp, apply the answer, and DELETE the session's Location to end it.

export class WhipWhepError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `location`: the session's resource URL; `links`: its Link header (the extensions the server offers). */
export type Session = { location: string | null; links: string | null; stop(): Promise<void> };

export async function negotiate(pc: RTCPeerConnection, url: string, headers: Record<string, string> = {}): Promise<Session> {
  try {
    await pc.setLocalDescription(await pc.createOffer());
    if (pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
        setTimeout(resolve, 2000);
      });
    }
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp', ...headers }, body: pc.localDescription!.sdp });
    const body = await res.text();
    if (res.status !== 201) {
      let detail = body;
      try {
        detail = (JSON.parse(body) as { detail?: string }).detail ?? body;
      } catch {
        // not problem+json
      }
      throw new WhipWhepError(res.status, detail || `${url} answered ${res.status}`);
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    const location = res.headers.get('location');
    return {
      location,
      links: res.headers.get('link'),
      // DELETE first: the server then ends the session at once instead of treating the closed connection as a drop.
      // A WHIP session's DELETE needs the same bearer token as its POST (the server refuses anyone else's).
      stop: async () => {
        if (location) await fetch(location, { method: 'DELETE', headers: { ...(headers.authorization ? { authorization: headers.authorization } : {}) } }).catch(() => undefined);
        pc.close();
      },
    };
  } catch (err) {
    pc.close();
    throw err;
  }
}
