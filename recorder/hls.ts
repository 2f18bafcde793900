// Reading and finishing the HLS playlists FFmpeg writes (media playlists only: EXTINF segments, ENDLIST).

export type MediaPlaylist = { segments: { uri: string; duration: number }[]; ended: boolean };

export function parsePlaylist(text: string): MediaPlaylist {
  const segments: MediaPlaylist['segments'] = [];
  let duration: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith('#')) {
      segments.push({ uri: line, duration: duration ?? 0 });
      duration = undefined;
    }
  }
  return { segments, ended: /^#EXT-X-ENDLIST\s*$/m.test(text) };
}

/** The playlist as a finished VoD: an EVENT playlist with #EXT-X-ENDLIST (added when FFmpeg could not). */
export function endPlaylist(text: string): string {
  if (/^#EXT-X-ENDLIST\s*$/m.test(text)) return text;
  return `${text.replace(/\s*$/, '')}\n#EXT-X-ENDLIST\n`;
}

/** Shorter than this, a segment holds a frame at most: players reject it (FFmpeg's HLS reader: "Cannot get correct
 * #EXTINF value"), and nothing of the broadcast is lost without it. */
const MIN_SEGMENT_SECONDS = 0.01;

/**
 * The playlist as readers may see it. FFmpeg ended before any media (its input said goodbye or idled out first)
 * lists an empty segment (EXTINF 0, target duration 0; or one of a few µs at its end) and ends the playlist: such
 * segments are left out, the target duration covers every segment kept (RFC 8216: at least each one's rounded
 * duration, never 0), and ENDLIST stays off until `final` — the next FFmpeg continues the same playlist.
 */
export function playable(text: string, final: boolean): string {
  const out: string[] = [];
  let block: string[] = [];
  let duration = 0;
  let longest = Number(/^#EXT-X-TARGETDURATION:(\d+)\s*$/m.exec(text)?.[1] ?? 0);
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line === '#EXT-X-ENDLIST' || line.startsWith('#EXT-X-TARGETDURATION:')) {
      if (line.startsWith('#EXT-X-TARGETDURATION:')) out.push('#EXT-X-TARGETDURATION:?');
      continue;
    }
    if (line.startsWith('#EXTINF:')) {
      duration = Number.parseFloat(line.slice(8)) || 0;
      block.push(line);
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) block.push(line);
    else if (!line.startsWith('#')) {
      if (duration >= MIN_SEGMENT_SECONDS) {
        out.push(...block, line);
        longest = Math.max(longest, duration);
      }
      block = [];
      duration = 0;
    } else out.push(line);
  }
  const target = `#EXT-X-TARGETDURATION:${Math.max(1, Math.round(longest))}`;
  if (!out.includes('#EXT-X-TARGETDURATION:?')) out.splice(out[0] === '#EXTM3U' ? 1 : 0, 0, target);
  const kept = out.map((l) => (l === '#EXT-X-TARGETDURATION:?' ? target : l)).join('\n') + '\n';
  return final ? endPlaylist(kept) : kept;
}

export const durationMs = (p: MediaPlaylist) => Math.round(p.segments.reduce((s, x) => s + x.duration, 0) * 1000);
