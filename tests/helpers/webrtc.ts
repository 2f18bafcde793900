// In-page WHIP publisher and WHEP viewer for browser tests (the same protocol steps as the studio and player).
import type { Page } from 'playwright-core';

/** Publishes the fake camera and microphone over WHIP from `page`; returns the session's Location. */
export async function publish(page: Page, opts: { slug: string; key: string; codec?: 'VP8' | 'H264'; simulcast?: boolean }): Promise<{ status: number; location: string | null; body: string }> {
  return page.evaluate(async ({ slug, key, codec, simulcast }) => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: simulcast ? { width: 1280, height: 720 } : { width: 640, height: 360 } });
    const pc = new RTCPeerConnection({ iceServers: [] });
    for (const track of stream.getTracks()) {
      const sendEncodings =
        simulcast && track.kind === 'video'
          ? [
              { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
              { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
              { rid: 'f', maxBitrate: 2_000_000 },
            ]
          : undefined;
      const t = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream], ...(sendEncodings ? { sendEncodings } : {}) });
      if (track.kind === 'video' && codec) {
        const caps = RTCRtpSender.getCapabilities('video')!.codecs;
        t.setCodecPreferences([...caps.filter((c) => c.mimeType === `video/${codec}`), ...caps.filter((c) => c.mimeType !== `video/${codec}`)]);
      }
    }
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
      setTimeout(resolve, 2000);
    });
    const res = await fetch(`/whip/${slug}`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${key}` }, body: pc.localDescription!.sdp });
    const body = await res.text();
    if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
    (window as any).__pub = { pc, location: res.headers.get('location'), key };
    return { status: res.status, location: res.headers.get('location'), body };
  }, opts);
}

/** Ends the WHIP session `publish` started in `page` (DELETE with its stream key); returns the status. */
export async function unpublish(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const { location, key } = (window as any).__pub as { location: string; key: string };
    return (await fetch(location, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } })).status;
  });
}

/** The headers a WHIP session's DELETE (or PATCH) needs: its stream key as the bearer token. */
export const withKey = (key: string) => ({ authorization: `Bearer ${key}` });

/**
 * Plays a channel over WHEP in `page`; stats are read with viewerStats(). The player fills the page, or with
 * `small` is 160×90 (many decoding viewers per browser for benchmarks, little compositing).
 */
export async function view(page: Page, slug: string, opts: { small?: boolean } = {}): Promise<{ status: number; location: string | null; body: string }> {
  return page.evaluate(async ([slug, small]) => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.id = 'whep-video';
    video.style.cssText = small ? 'width:160px;height:90px' : 'position:fixed;inset:0;width:100vw;height:100vh;z-index:99999;background:#000';
    document.body.appendChild(video);
    const ms = new MediaStream();
    pc.ontrack = (e) => {
      ms.addTrack(e.track);
      video.srcObject = ms;
    };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
      setTimeout(resolve, 2000);
    });
    const res = await fetch(`/whep/${slug}`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    const body = await res.text();
    if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
    (window as any).__view = { pc, location: res.headers.get('location') };
    return { status: res.status, location: res.headers.get('location'), body };
  }, [slug, !!opts.small] as const);
}

export async function viewerStats(page: Page): Promise<{ framesDecoded: number; audioPackets: number; state: string; codec: string }> {
  return page.evaluate(async () => {
    const pc: RTCPeerConnection = (window as any).__view.pc;
    const stats = await pc.getStats();
    let framesDecoded = 0;
    let audioPackets = 0;
    let codecId = '';
    const codecs = new Map<string, string>();
    stats.forEach((s: any) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        framesDecoded = s.framesDecoded ?? 0;
        codecId = s.codecId;
      }
      if (s.type === 'inbound-rtp' && s.kind === 'audio') audioPackets = s.packetsReceived ?? 0;
      if (s.type === 'codec') codecs.set(s.id, s.mimeType);
    });
    return { framesDecoded, audioPackets, state: pc.connectionState, codec: codecs.get(codecId) ?? '' };
  });
}

/** Polls until `pred` holds or the deadline passes; returns the last value. */
export async function until<T>(get: () => Promise<T>, pred: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await get();
  while (!pred(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    v = await get();
  }
  return v;
}
