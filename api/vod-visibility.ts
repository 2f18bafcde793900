// Who sees a VoD where: the one rule behind its page, its HLS, every list (catalog, channel page, related) and search.
// - private: the channel's owner and admins only; a scheduled premiere (publish_at ahead): the same until then; a
//   failed recording: the same (for its owner to learn about and delete). Anyone else gets 404, as if it did not exist.
// - unlisted: playable by whoever has its link, never listed.
// - subscribers: listed; its files for those entitled (api/entitlements.ts), like a recording in progress of a channel
//   whose live streams are subscriber-only (its DVR).
// A premiere needs no job: every check compares publish_at with the time of the request. Search documents follow the
// same rule: only listed visibilities have one (the search_vod trigger, sql/0015), dated at the publish time, and
// search leaves out documents dated ahead (shared/search).
import { and, inArray, isNull, lte, or, type SQL } from 'drizzle-orm';
import { vod } from '../shared/db/index.ts';
import { LISTED_VISIBILITIES, type Visibility } from '../shared/vod-catalog.ts';
import type { Viewer } from './entitlements.ts';

type VodState = { visibility: Visibility; publishAt: Date | null; status: string };

/** The channel's owner or an admin: who sees and manages all of its VoDs. */
export const managesVod = (viewer: Viewer | undefined, ownerId: string) => !!viewer && (viewer.id === ownerId || viewer.role === 'admin');

/** Whether a VoD's publish time is still ahead. */
export const scheduled = (v: Pick<VodState, 'publishAt'>, now = new Date()) => v.publishAt !== null && v.publishAt.getTime() > now.getTime();

/**
 * What `viewer` may do with a VoD: 'hidden' (it does not exist for them: 404), 'restricted' (theirs to see, its files
 * for the entitled only) or 'open'.
 */
export function vodAccess(v: VodState, ch: { ownerId: string; subscribersOnlyLive: boolean }, viewer: Viewer | undefined, now = new Date()): 'hidden' | 'restricted' | 'open' {
  if (!managesVod(viewer, ch.ownerId) && (v.visibility === 'private' || v.status === 'failed' || scheduled(v, now))) return 'hidden';
  return v.visibility === 'subscribers' || (v.status === 'recording' && ch.subscribersOnlyLive) ? 'restricted' : 'open';
}

/** Whether a VoD shows in lists for someone who does not manage it (the SQL of listedVods, for one row). */
export const listed = (v: VodState, now = new Date()) => (LISTED_VISIBILITIES as readonly string[]).includes(v.visibility) && v.status !== 'failed' && !scheduled(v, now);

/** The SQL condition of `listed` (without the status, which each list picks): listed visibility, published by `now`. */
export const listedVods = (now = new Date()): SQL => and(inArray(vod.visibility, [...LISTED_VISIBILITIES]), or(isNull(vod.publishAt), lte(vod.publishAt, now)))!;
