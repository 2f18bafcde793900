// Past broadcasts get the same ladder as uploads: when a recording becomes ready (the recorder's `vod.ready` on the
// bus), a 'vod.transcode' job is queued for it, keyed by the VoD so the API processes that all hear the event queue
// it once. The instant VoD goes on playing from its recording (index.m3u8) meanwhile; masterPlaylistUrl appears once
// the first rendition is ready. Whoever registered the kind runs it (the Node API on defaults, `npm run worker`).
import type { Deps } from './context.ts';
import type { Jobs } from '../shared/jobs.ts';

/** The job's key: one transcode per VoD. */
export const transcodeKey = (vodId: string) => `vod.transcode:${vodId}`;

export function transcodeRecordings(deps: Deps, jobs: Jobs): () => void {
  if (!deps.config.transcode.pastBroadcasts) return () => undefined;
  return deps.bus.subscribe('vod.ready', (e) => {
    jobs.enqueue('vod.transcode', transcodeKey(e.vodId), { vodId: e.vodId }).catch((err) => deps.log.error({ err, vodId: e.vodId }, 'could not queue the transcode of a recording'));
  });
}
