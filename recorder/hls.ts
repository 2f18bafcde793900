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

export const durationMs = (p: MediaPlaylist) => Math.round(p.segments.reduce((s, x) => s + x.duration, 0) * 1000);

export const CONTENT_TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  ts: 'video/mp2t',
  jpg: 'image/jpeg',
};
