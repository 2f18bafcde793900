// Shared by the latency benchmarks: the page-side clock (drawn into frames as 32 blocks, read back from every decoded
// frame with requestVideoFrameCallback) and percentiles.

import type { BrowserContext, Page } from 'playwright-core';

/** A page of `context` on the API's origin with the clock code installed and its interfaces unlocked. */
export async function clockPage(context: BrowserContext, base: string): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript('window.__name = (f) => f');
  await page.goto(base + '/healthz');
  await page.evaluate(pageCode);
  await page.evaluate(() => (window as any).__unlockInterfaces());
  return page;
}

/** Page-side code: the clock canvas, the two senders, the frame reader. Installed into every page. */
export function pageCode() {
  const W = 640;
  const H = 360;
  const COLS = 8;
  const BLOCK = 80; // 8 × 4 blocks of 80 px: 32 bits
  const w = window as any;

  const encode = (t: number) => {
    const v = t & 0xffffff;
    const check = ((v & 0xff) + ((v >> 8) & 0xff) + ((v >> 16) & 0xff)) & 0xff;
    return [v, ((v << 8) | check) >>> 0] as const;
  };
  const decode = (bits: number) => {
    const v = bits >>> 8;
    const check = bits & 0xff;
    return (((v & 0xff) + ((v >> 8) & 0xff) + ((v >> 16) & 0xff)) & 0xff) === check ? v : -1;
  };

  /** Lets Chromium gather its loopback candidate (it enumerates every interface only once media is allowed). */
  w.__unlockInterfaces = async () => {
    const s = await navigator.mediaDevices.getUserMedia({ audio: true });
    for (const t of s.getTracks()) t.stop();
  };

  /**
   * Starts the clock track. With `camera`, the frame is the camera's size (Chromium's fake camera, which a benchmark
   * can point at a clip) and the clock is drawn over its top-left 640×320 corner: the rest of the picture keeps the
   * encoder as busy as a camera would; the readers look at that corner only.
   */
  w.__startClock = async (opts: { camera?: { width: number; height: number } } = {}) => {
    const canvas = document.createElement('canvas');
    canvas.width = opts.camera?.width ?? W;
    canvas.height = opts.camera?.height ?? H;
    document.body.appendChild(canvas);
    const g = canvas.getContext('2d')!;
    let camera: HTMLVideoElement | undefined;
    if (opts.camera) {
      camera = document.createElement('video');
      camera.muted = true;
      camera.srcObject = await navigator.mediaDevices.getUserMedia({ video: { ...opts.camera, frameRate: 30 } });
      await camera.play();
    }
    const stream = canvas.captureStream(0);
    const track = stream.getVideoTracks()[0] as CanvasCaptureMediaStreamTrack;
    track.contentHint = 'detail';
    const draw = () => {
      const [, word] = encode(Date.now());
      if (camera) g.drawImage(camera, 0, 0, canvas.width, canvas.height);
      g.fillStyle = '#000';
      g.fillRect(0, 0, W, H);
      g.fillStyle = '#fff';
      for (let i = 0; i < 32; i++) if ((word >>> (31 - i)) & 1) g.fillRect((i % COLS) * BLOCK, Math.floor(i / COLS) * BLOCK, BLOCK, BLOCK);
      track.requestFrame();
    };
    w.__clockTimer = setInterval(draw, 1000 / 30);
    w.__clock = stream;
  };

  const preferCodec = (t: RTCRtpTransceiver, codec: string) => {
    const caps = RTCRtpReceiver.getCapabilities('video')!.codecs;
    t.setCodecPreferences([...caps.filter((c) => c.mimeType === `video/${codec}`), ...caps.filter((c) => c.mimeType !== `video/${codec}`)]);
  };
  const gathered = (pc: RTCPeerConnection) =>
    new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
      setTimeout(resolve, 3000);
    });
  /** Keeps only UDP host candidates on 127.0.0.1: the benchmark's traffic stays on loopback. */
  const loopbackOnly = (sdp: string) =>
    sdp
      .split('\r\n')
      .filter((l) => !l.startsWith('a=candidate:') || / udp \d+ 127\.0\.0\.1 \d+ typ host/i.test(l))
      .join('\r\n');

  /** Publishes the clock over WHIP; with `maxBitrate` (bit/s) capped there, keeping the resolution when CPU is short. */
  w.__whip = async (slug: string, key: string, codec: string, maxBitrate?: number) => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    const t = pc.addTransceiver(w.__clock.getVideoTracks()[0], { direction: 'sendonly', streams: [w.__clock] });
    preferCodec(t, codec);
    if (maxBitrate) {
      const params = t.sender.getParameters();
      params.encodings[0]!.maxBitrate = maxBitrate;
      (params as any).degradationPreference = 'maintain-resolution';
      await t.sender.setParameters(params);
    }
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const res = await fetch(`/whip/${slug}`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${key}` }, body: pc.localDescription!.sdp });
    const body = await res.text();
    if (res.status !== 201) throw new Error(`WHIP ${res.status}: ${body}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    w.__whipPc = pc;
  };

  w.__directOffer = async (codec: string) => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    preferCodec(pc.addTransceiver(w.__clock.getVideoTracks()[0], { direction: 'sendonly', streams: [w.__clock] }), codec);
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    w.__directPc = pc;
    return loopbackOnly(pc.localDescription!.sdp);
  };
  w.__directAnswered = async (sdp: string) => w.__directPc.setRemoteDescription({ type: 'answer', sdp });

  const player = () => {
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.width = W;
    video.height = H;
    document.body.appendChild(video);
    return video;
  };

  /** Reads the clock out of every decoded frame; samples are [latency to expected display, latency at callback] ms. */
  const measure = (video: HTMLVideoElement) => {
    const canvas = document.createElement('canvas');
    canvas.width = W;
    canvas.height = H;
    const g = canvas.getContext('2d', { willReadFrequently: true })!;
    w.__samples = [] as [number, number][];
    w.__unreadable = 0;
    const onFrame = (now: number, meta: VideoFrameCallbackMetadata) => {
      g.drawImage(video, 0, 0, W, H, 0, 0, W, H); // the clock's corner, at the frame's own scale
      const data = g.getImageData(0, 0, W, H).data;
      let word = 0;
      for (let i = 0; i < 32; i++) {
        const x = (i % COLS) * BLOCK + BLOCK / 2;
        const y = Math.floor(i / COLS) * BLOCK + BLOCK / 2;
        let sum = 0;
        for (let dy = -10; dy <= 10; dy += 5) for (let dx = -10; dx <= 10; dx += 5) sum += data[((y + dy) * W + (x + dx)) * 4 + 1]!;
        word = ((word << 1) | (sum / 25 > 128 ? 1 : 0)) >>> 0;
      }
      const drawn = decode(word);
      if (drawn < 0) w.__unreadable++;
      else {
        // both on the wall clock the publisher drew with: Date.now() now, minus how far back the event lies
        const wall = Date.now();
        const sinceNow = performance.now();
        const display = Math.round(wall - (sinceNow - meta.expectedDisplayTime)) & 0xffffff;
        const called = Math.round(wall - (sinceNow - now)) & 0xffffff;
        w.__samples.push([(display - drawn + 0x1000000) % 0x1000000, (called - drawn + 0x1000000) % 0x1000000]);
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };

  w.__whep = async (slug: string) => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    pc.addTransceiver('video', { direction: 'recvonly' });
    const video = player();
    pc.ontrack = (e) => (video.srcObject = new MediaStream([e.track]));
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const res = await fetch(`/whep/${slug}`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    const body = await res.text();
    if (res.status !== 201) throw new Error(`WHEP ${res.status}: ${body}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    w.__recvPc = pc;
    measure(video);
  };

  w.__directAnswer = async (offer: string) => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    const video = player();
    pc.ontrack = (e) => (video.srcObject = new MediaStream([e.track]));
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    w.__recvPc = pc;
    measure(video);
    return loopbackOnly(pc.localDescription!.sdp);
  };

  w.__resetSamples = () => {
    w.__samples = [];
    w.__unreadable = 0;
  };
  /** Video RTP statistics of this page's peer connections (for the report and for diagnosing a slow path). */
  w.__rtp = async () => {
    const out: Record<string, unknown>[] = [];
    for (const pc of [w.__whipPc, w.__directPc, w.__recvPc].filter(Boolean) as RTCPeerConnection[]) {
      (await pc.getStats()).forEach((s: any) => {
        if ((s.type === 'outbound-rtp' || s.type === 'inbound-rtp') && s.kind === 'video')
          out.push({ type: s.type, fps: s.framesPerSecond, frames: s.framesEncoded ?? s.framesDecoded, received: s.framesReceived, dropped: s.framesDropped, limit: s.qualityLimitationReason, nack: s.nackCount, pli: s.pliCount, kbytes: Math.round((s.bytesSent ?? s.bytesReceived) / 1000) });
        if (s.type === 'candidate-pair' && s.nominated) out.push({ type: 'pair', outgoing: s.availableOutgoingBitrate, rtt: s.currentRoundTripTime });
      });
    }
    return out;
  };
  w.__codec = async () => {
    const pc: RTCPeerConnection | undefined = w.__whipPc ?? w.__directPc;
    const stats = await pc!.getStats();
    let codec = '';
    stats.forEach((s: any) => s.type === 'codec' && s.mimeType.startsWith('video/') && (codec ||= s.mimeType));
    return codec;
  };
}

export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
