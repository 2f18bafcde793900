// Where media lives in the object store and what it is served as: the recorder writes these keys and the API reads
// them, so both spell them here.

/** A VoD's files (its playlist, segments and poster) live under this prefix. */
export const vodPrefix = (vodId: string) => `vod/${vodId}/`;
/** A live session's preview image (shown in channel lists), refreshed while it is live and removed at its end. */
export const previewKey = (sessionId: string) => `live/${sessionId}/preview.jpg`;
/** The poster of a VoD, a frame from the middle of its recording. */
export const posterKey = (prefix: string) => `${prefix}poster.jpg`;

/**
 * What a recording is called: its broadcast's title, or (none given) its channel's title and when it started, so that
 * untitled broadcasts of one channel are still told apart.
 */
export const recordingTitle = (broadcastTitle: string, channelTitle: string, startedAt: Date) =>
  broadcastTitle || `${channelTitle} · ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** Content types of the files the recorder stores, by extension. */
export const CONTENT_TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  ts: 'video/mp2t',
  jpg: 'image/jpeg',
  // the ladder's fMP4 segments and the storyboard's cues (issue 17)
  mp4: 'video/mp4',
  m4s: 'video/iso.segment',
  vtt: 'text/vtt',
};
