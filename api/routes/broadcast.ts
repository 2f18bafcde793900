// A channel's broadcasts as its owner runs them from the studio: the title and category of the next (or current)
// broadcast, which name its recording, and a summary of one broadcast once it has ended (with its recording's state).
// The SFU copies the next broadcast's title onto each live session it starts (WHIP or RTMP alike).
import { createRoute } from '@hono/zod-openapi';
import { and, count, desc, eq, isNull } from 'drizzle-orm';
import { channel, chatMessage, liveSession, vod, type Db } from '../../shared/db/index.ts';
import { notFound } from '../../shared/errors.ts';
import { recordingTitle } from '../../shared/media.ts';
import { CHANNEL_LIMITS, INVISIBLE_MESSAGE, isVisibleLine } from '../../shared/rules.ts';
import { requireRank, withChannel, type ChannelRow } from '../channel-context.ts';
import { json, problems, router, z } from '../openapi.ts';

const tags = ['broadcasts'];

const SlugParam = z.object({ slug: z.string().max(64).openapi({ param: { name: 'slug', in: 'path' } }) });
const SessionParam = SlugParam.extend({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

const BroadcastInput = z
  .object({
    title: z.string().trim().max(CHANNEL_LIMITS.title).refine(isVisibleLine, INVISIBLE_MESSAGE).openapi({ description: "Empty: the recording is named after the channel and the broadcast's start" }),
    category: z.string().trim().max(CHANNEL_LIMITS.category).refine(isVisibleLine, INVISIBLE_MESSAGE),
  })
  .strict()
  .openapi('BroadcastInput');

const BroadcastSchema = z
  .object({
    title: z.string(),
    category: z.string(),
    live: z
      .object({ sessionId: z.uuid(), startedAt: z.iso.datetime(), viewers: z.number().int(), peakViewers: z.number().int() })
      .nullable()
      .openapi({ description: 'The broadcast on air now (its title and category are the ones above), or null.' }),
  })
  .openapi('Broadcast', { description: 'The title and category the next broadcast starts with, or the current one has.' });

const BroadcastSummary = z
  .object({
    sessionId: z.uuid(),
    title: z.string().openapi({ description: "The broadcast's title, or what its recording is called when it had none" }),
    category: z.string(),
    startedAt: z.iso.datetime(),
    endedAt: z.iso.datetime().nullable(),
    durationSeconds: z.number().nullable(),
    peakViewers: z.number().int(),
    chatMessages: z.number().int(),
    vod: z
      .object({ id: z.uuid(), status: z.enum(['recording', 'processing', 'ready', 'failed']) })
      .nullable()
      .openapi({ description: 'Its recording (ready once it can be watched), or null if none was started.' }),
  })
  .openapi('BroadcastSummary');

/** The channel's current broadcast, if any: its counts and the title and category it is on air with. */
async function current(db: Db, channelId: string) {
  const [row] = await db
    .select({ id: liveSession.id, startedAt: liveSession.startedAt, viewers: liveSession.viewers, peakViewers: liveSession.peakViewers, title: liveSession.title, category: liveSession.category })
    .from(liveSession)
    .where(and(eq(liveSession.channelId, channelId), isNull(liveSession.endedAt)))
    .limit(1);
  return row;
}

async function broadcastJson(db: Db, ch: ChannelRow): Promise<z.infer<typeof BroadcastSchema>> {
  const [next] = await db.select({ title: channel.nextTitle, category: channel.nextCategory }).from(channel).where(eq(channel.id, ch.id));
  const live = await current(db, ch.id);
  return {
    title: live?.title ?? next?.title ?? '',
    category: live?.category ?? next?.category ?? '',
    live: live ? { sessionId: live.id, startedAt: live.startedAt.toISOString(), viewers: live.viewers, peakViewers: live.peakViewers } : null,
  };
}

export const broadcastApp = router()
  .openapi(
    ...withChannel(
      createRoute({
        method: 'get',
        path: '/{slug}/broadcast',
        tags,
        summary: "The next (or current) broadcast's title and category, and the current one's viewers (owner, admin)",
        request: { params: SlugParam },
        responses: { 200: json(BroadcastSchema, 'The broadcast.'), ...problems(401, 403, 404) },
      }),
      async (c) => {
        requireRank(c, 'own');
        return c.json(await broadcastJson(c.var.deps.database.db, c.var.channel), 200);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'put',
        path: '/{slug}/broadcast',
        tags,
        summary: "Set the broadcast's title and category: the next one's, and the current one's while live, which renames its recording (owner, admin)",
        request: { params: SlugParam, body: { required: true, content: { 'application/json': { schema: BroadcastInput } } } },
        responses: { 200: json(BroadcastSchema, 'Set.'), ...problems(400, 401, 403, 404, 415) },
      }),
      async (c) => {
        requireRank(c, 'own');
        const { db } = c.var.deps.database;
        const ch = c.var.channel;
        const { title, category } = c.req.valid('json');
        await db.update(channel).set({ nextTitle: title, nextCategory: category }).where(eq(channel.id, ch.id));
        const [live] = await db
          .update(liveSession)
          .set({ title, category })
          .where(and(eq(liveSession.channelId, ch.id), isNull(liveSession.endedAt)))
          .returning({ id: liveSession.id, startedAt: liveSession.startedAt });
        // the recording in progress takes the new name (one finished, or renamed by hand after, keeps its own)
        if (live) {
          await db
            .update(vod)
            .set({ title: recordingTitle(title, ch.title, live.startedAt) })
            .where(and(eq(vod.liveSessionId, live.id), eq(vod.status, 'recording')));
          // the channel's JSON shows the broadcast's title, its list the recording's: gone here before the answer
          await Promise.all([c.var.deps.reads.invalidateChannel(ch.slug), c.var.deps.reads.invalidateVods(ch.id)]);
          c.var.deps.bus.publish('broadcast.renamed', { channelId: ch.id, slug: ch.slug, sessionId: live.id });
        }
        return c.json(await broadcastJson(db, ch), 200);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'get',
        path: '/{slug}/broadcasts/{id}',
        tags,
        summary: "One broadcast's summary: how long, how many watched and chatted, and its recording (owner, admin)",
        request: { params: SessionParam },
        responses: { 200: json(BroadcastSummary, 'The broadcast.'), ...problems(400, 401, 403, 404) },
      }),
      async (c) => {
        requireRank(c, 'own');
        const { db } = c.var.deps.database;
        const ch = c.var.channel;
        const { id } = c.req.valid('param');
        const [s] = await db.select().from(liveSession).where(and(eq(liveSession.id, id), eq(liveSession.channelId, ch.id))).limit(1);
        if (!s) throw notFound('That broadcast');
        const [recording] = await db.select({ id: vod.id, status: vod.status, title: vod.title }).from(vod).where(eq(vod.liveSessionId, s.id)).orderBy(desc(vod.startedAt)).limit(1);
        const [chat] = await db.select({ n: count() }).from(chatMessage).where(and(eq(chatMessage.liveSessionId, s.id), isNull(chatMessage.deletedAt)));
        return c.json(
          {
            sessionId: s.id,
            title: s.title || (recording?.title ?? recordingTitle('', ch.title, s.startedAt)),
            category: s.category,
            startedAt: s.startedAt.toISOString(),
            endedAt: s.endedAt?.toISOString() ?? null,
            durationSeconds: s.endedAt ? (s.endedAt.getTime() - s.startedAt.getTime()) / 1000 : null,
            peakViewers: s.peakViewers,
            chatMessages: chat?.n ?? 0,
            vod: recording ? { id: recording.id, status: recording.status } : null,
          },
          200,
        );
      },
    ),
  );
