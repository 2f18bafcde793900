// The adaptive-bitrate ladder of a VoD: which renditions a source gets, what each is encoded at, and the master
// playlist naming those ready so far. Pure and portable: the transcoder (transcoder/) computes and encodes the ladder,
// the API serializes it from the vod row (vod.renditions) — one set of rules for both.

/** Every rendition a VoD may have; each lives under vod/<id>/<name>/. */
export const RENDITION_NAMES = ['1080p', '720p', '480p', '360p', '240p', 'audio'] as const;
export type RenditionName = (typeof RENDITION_NAMES)[number];
export type RenditionStatus = 'queued' | 'running' | 'ready' | 'failed';

/** One rendition as vod.renditions stores it (and the API shows it). */
export type Rendition = {
  name: RenditionName;
  /** 0 × 0 for the audio-only rendition */
  width: number;
  height: number;
  /** peak bits per second, as BANDWIDTH says in the master playlist */
  bandwidth: number;
  /** RFC 6381 codecs, as CODECS says (`avc1.64001f,mp4a.40.2`) */
  codecs: string;
  status: RenditionStatus;
  /** 0..1 of the source's duration encoded */
  progress: number;
  /** frames per second of the video (0 for audio) */
  frameRate: number;
  /** what the encoder is asked for: video and audio bits per second (0 for none) */
  videoBitrate: number;
  audioBitrate: number;
};

/** What the transcoder learned of a source by probing it. */
export type SourceInfo = {
  width: number;
  height: number;
  /** frames per second (0: unknown) */
  fps: number;
  /** the whole source's bits per second (0: unknown) */
  bitrate: number;
  hasAudio: boolean;
  durationSeconds: number;
};

/** The video rungs by their shorter side, with PeerTube's average bitrates at 30 fps (bit/s). */
const RUNGS: { name: Exclude<RenditionName, 'audio'>; short: number; bitrate30: number }[] = [
  { name: '240p', short: 240, bitrate30: 500_000 },
  { name: '360p', short: 360, bitrate30: 1_000_000 },
  { name: '480p', short: 480, bitrate30: 1_500_000 },
  { name: '720p', short: 720, bitrate30: 3_000_000 },
  { name: '1080p', short: 1080, bitrate30: 6_200_000 },
];
/** AAC-LC bits per second, in every rendition that has audio. */
export const AUDIO_BITRATE = 128_000;
/** Output frame rates above this are halved in count by the encoder's fps filter (a 120 fps screen capture). */
export const MAX_FPS = 60;
/** Seconds between keyframes (and of each segment), the same in every rendition so players switch at any segment. */
export const GOP_SECONDS = 2;
/** Containers and packet headers on top of the encoder's bitrates (BANDWIDTH is what the network carries). */
const OVERHEAD = 1.1;
/** The least a video rendition is given when a low-bitrate source caps it (below this a picture falls apart). */
const MIN_VIDEO_BITRATE = 100_000;

/** A rung's bitrate at `fps`: above 30 fps up to 45 % more at 60 (PeerTube's 60 fps table is ~1.45× its 30 fps one). */
export function bitrateAt(bitrate30: number, fps: number): number {
  const more = Math.min(1, Math.max(0, (fps - 30) / 30));
  return Math.round(bitrate30 * (1 + 0.45 * more));
}

/** H.264 levels from 3.0 up: the largest frame (macroblocks), macroblocks per second and bitrate (kbit/s, High) each allows. */
const LEVELS: { idc: number; fs: number; mbps: number; br: number }[] = [
  { idc: 30, fs: 1620, mbps: 40_500, br: 12_500 },
  { idc: 31, fs: 3600, mbps: 108_000, br: 17_500 },
  { idc: 32, fs: 5120, mbps: 216_000, br: 25_000 },
  { idc: 40, fs: 8192, mbps: 245_760, br: 25_000 },
  { idc: 41, fs: 8192, mbps: 245_760, br: 62_500 },
  { idc: 42, fs: 8704, mbps: 522_240, br: 62_500 },
  { idc: 50, fs: 22_080, mbps: 589_824, br: 168_750 },
  { idc: 51, fs: 36_864, mbps: 983_040, br: 300_000 },
];

/** The smallest H.264 level (×10: 31 is 3.1) that a width × height picture at fps and bitrate fits. */
export function h264Level(width: number, height: number, fps: number, bitrate: number): number {
  const fs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const level = LEVELS.find((l) => fs <= l.fs && fs * fps <= l.mbps && Math.max(width, height) / 16 <= Math.sqrt(8 * l.fs) && bitrate / 1000 <= l.br);
  return (level ?? LEVELS.at(-1)!).idc;
}

/** Main profile for small pictures (older phones decode it in hardware), High from 720p up. */
export const h264Profile = (shortSide: number): 'main' | 'high' => (shortSide >= 720 ? 'high' : 'main');

/** The RFC 6381 name of an H.264 profile and level: avc1.PPCCLL (x264 sets constraint_set1 for Main). */
export function avc1Codec(profile: 'main' | 'high', level: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return profile === 'high' ? `avc1.6400${hex(level)}` : `avc1.4d40${hex(level)}`;
}

/** The AAC-LC codec name. */
export const AAC_CODEC = 'mp4a.40.2';

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/** The output frame rate: the source's (30 when unknown), never above MAX_FPS. */
export const outputFps = (source: Pick<SourceInfo, 'fps'>) => {
  const fps = source.fps > 0 ? source.fps : 30;
  return fps > MAX_FPS ? fps / Math.ceil(fps / MAX_FPS) : fps;
};

/**
 * The ladder of a source: each rung up to its shorter side (never upscaled; measured on the shorter side so a
 * portrait video gets the same rungs as a landscape one), each rung's bitrate capped by the source's own (a
 * low-bitrate source gains nothing from more), and an audio-only rendition when it has audio. A source smaller than
 * the lowest rung still gets that rung, at its own size. Lowest first: the order they are encoded in.
 */
export function ladderFor(source: SourceInfo): Rendition[] {
  const short = Math.min(source.width, source.height);
  const portrait = source.height > source.width;
  const fps = outputFps(source);
  const audioBitrate = source.hasAudio ? AUDIO_BITRATE : 0;
  const rungs = RUNGS.filter((r) => r.short <= short);
  const chosen = rungs.length ? rungs : [RUNGS[0]!];
  const out: Rendition[] = chosen.map((r) => {
    const side = Math.min(r.short, even(short));
    const other = even((side * Math.max(source.width, source.height)) / short);
    const [width, height] = portrait ? [side, other] : [other, side];
    const target = bitrateAt(r.bitrate30, fps);
    const cap = source.bitrate > 0 ? Math.max(MIN_VIDEO_BITRATE, source.bitrate - audioBitrate) : Infinity;
    const videoBitrate = Math.min(target, cap);
    const profile = h264Profile(side);
    const codecs = [avc1Codec(profile, h264Level(width, height, fps, videoBitrate)), ...(source.hasAudio ? [AAC_CODEC] : [])].join(',');
    return { name: r.name, width, height, bandwidth: Math.round((videoBitrate + audioBitrate) * OVERHEAD), codecs, status: 'queued', progress: 0, frameRate: Math.round(fps * 1000) / 1000, videoBitrate, audioBitrate };
  });
  if (source.hasAudio) {
    out.push({ name: 'audio', width: 0, height: 0, bandwidth: Math.round(AUDIO_BITRATE * OVERHEAD), codecs: AAC_CODEC, status: 'queued', progress: 0, frameRate: 0, videoBitrate: 0, audioBitrate: AUDIO_BITRATE });
  }
  return out;
}

/** The order renditions are encoded in: the lowest video first (watchable soonest), the cheap audio-only next, the rest upwards. */
export function encodeOrder(ladder: Rendition[]): Rendition[] {
  const video = ladder.filter((r) => r.name !== 'audio').sort((a, b) => a.bandwidth - b.bandwidth);
  const audio = ladder.filter((r) => r.name === 'audio');
  return [...video.slice(0, 1), ...audio, ...video.slice(1)];
}

/** A rendition's media playlist, relative to the VoD's prefix. */
export const renditionPlaylist = (name: RenditionName) => `${name}/index.m3u8`;

/**
 * The master playlist listing the renditions ready (lowest first, the audio-only one last), or null when none is.
 * A video variant without audio is still listed; the audio-only variant has no RESOLUTION (RFC 8216 §4.3.4.2).
 */
export function masterPlaylist(ladder: Rendition[]): string | null {
  const ready = ladder.filter((r) => r.status === 'ready');
  if (!ready.some((r) => r.name !== 'audio')) return null;
  const video = ready.filter((r) => r.name !== 'audio').sort((a, b) => a.bandwidth - b.bandwidth);
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const r of video) {
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${r.bandwidth},CODECS="${r.codecs}",RESOLUTION=${r.width}x${r.height},FRAME-RATE=${r.frameRate.toFixed(3)}`, renditionPlaylist(r.name));
  }
  for (const r of ready.filter((x) => x.name === 'audio')) lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${r.bandwidth},CODECS="${r.codecs}"`, renditionPlaylist(r.name));
  return `${lines.join('\n')}\n`;
}

/** A storyboard sprite: one tile every `interval` seconds, `columns` a row, at most MAX_TILES tiles. */
export type StoryboardPlan = { interval: number; count: number; columns: number; rows: number; tileWidth: number; tileHeight: number };
export const MAX_TILES = 100;
export const STORYBOARD_COLUMNS = 10;

/** The sprite for a `durationSeconds` video: a tile a second for short ones, spread to ≤ MAX_TILES for long ones. */
export function storyboardPlan(durationSeconds: number, tileWidth = 160, tileHeight = 90): StoryboardPlan {
  const interval = Math.max(1, Math.ceil(durationSeconds / MAX_TILES));
  const count = Math.max(1, Math.min(MAX_TILES, Math.ceil(durationSeconds / interval)));
  const columns = Math.min(STORYBOARD_COLUMNS, count);
  return { interval, count, columns, rows: Math.ceil(count / columns), tileWidth, tileHeight };
}

const vttTime = (s: number) => {
  const ms = Math.round(s * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(Math.floor(ms / 3_600_000))}:${p(Math.floor(ms / 60_000) % 60)}:${p(Math.floor(ms / 1000) % 60)}.${p(ms % 1000, 3)}`;
};

/** The WebVTT naming each tile of the sprite for its span of the video (`storyboard.jpg#xywh=x,y,w,h`). */
export function storyboardVtt(plan: StoryboardPlan, durationSeconds: number, image = 'storyboard.jpg'): string {
  const cues = ['WEBVTT', ''];
  for (let i = 0; i < plan.count; i++) {
    const start = i * plan.interval;
    const end = Math.min(durationSeconds, (i + 1) * plan.interval);
    if (end <= start) break;
    const x = (i % plan.columns) * plan.tileWidth;
    const y = Math.floor(i / plan.columns) * plan.tileHeight;
    cues.push(`${vttTime(start)} --> ${vttTime(end)}`, `${image}#xywh=${x},${y},${plan.tileWidth},${plan.tileHeight}`, '');
  }
  return cues.join('\n');
}

/** Poster candidates: frames at these fractions of the duration (frame-1 … frame-4). */
export const POSTER_FRACTIONS = [0.2, 0.4, 0.6, 0.8] as const;
/** The frame that is the poster unless its owner chooses another (frame-2: past a title card, before the end). */
export const DEFAULT_POSTER_FRAME = 2;

/** The files of a VoD's images, relative to its prefix. */
export const VOD_IMAGES = {
  thumbSmall: 'thumb-small.jpg',
  thumbLarge: 'thumb-large.jpg',
  frame: (n: number) => `frame-${n}.jpg`,
  storyboard: 'storyboard.jpg',
  storyboardVtt: 'storyboard.vtt',
} as const;
