// A storyboard's WebVTT cues (`storyboard.jpg#xywh=x,y,w,h`, one per few seconds of the video) for the previews on
// the seek bar. The file comes from the server, but parse it as a stranger's: bounded in size and cue count, and a
// line that is not a cue we understand is skipped rather than trusted.

/** One tile of the sprite: the time range it shows and where it is in the image. */
export type StoryboardCue = { start: number; end: number; url: string; x: number; y: number; w: number; h: number };

/** Larger files are not parsed (a 3-hour video at one tile per 2 s is ~5400 cues, ~300 KB). */
export const MAX_VTT_BYTES = 2_000_000;
export const MAX_CUES = 20_000;

const TIME = /^(?:(\d{1,3}):)?([0-5]?\d):([0-5]\d)\.(\d{3})$/;

/** "01:02:03.456" or "02:03.456" → seconds; NaN when malformed. */
export function vttTime(s: string): number {
  const m = TIME.exec(s.trim());
  if (!m) return Number.NaN;
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000;
}

/**
 * The cues of a storyboard `text`, in time order, image URLs resolved against `base` (the .vtt's URL). Throws when
 * the text is not WebVTT or too large; malformed cues are skipped.
 */
export function parseStoryboard(text: string, base: string): StoryboardCue[] {
  if (text.length > MAX_VTT_BYTES) throw new Error('storyboard too large');
  if (!/^\uFEFF?WEBVTT(?:[ \t].*)?(?:\r?\n|$)/.test(text)) throw new Error('not a WebVTT file');
  const cues: StoryboardCue[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length && cues.length < MAX_CUES; i++) {
    const arrow = lines[i]!.indexOf('-->');
    if (arrow < 0) continue;
    const start = vttTime(lines[i]!.slice(0, arrow));
    const end = vttTime(lines[i]!.slice(arrow + 3).trim().split(/\s+/)[0] ?? '');
    const payload = (lines[i + 1] ?? '').trim();
    const hash = /^(.+)#xywh=(\d{1,6}),(\d{1,6}),(\d{1,5}),(\d{1,5})$/.exec(payload);
    if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start || !hash) continue;
    let url: string;
    try {
      url = new URL(hash[1]!, base).href;
    } catch {
      continue;
    }
    cues.push({ start, end, url, x: Number(hash[2]), y: Number(hash[3]), w: Number(hash[4]), h: Number(hash[5]) });
    i++;
  }
  return cues.sort((a, b) => a.start - b.start);
}

/** The cue showing `t` seconds (binary search; the last one before `t` when between cues), or null. */
export function cueAt(cues: StoryboardCue[], t: number): StoryboardCue | null {
  let lo = 0;
  let hi = cues.length - 1;
  let found: StoryboardCue | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cues[mid]!.start <= t) {
      found = cues[mid]!;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
