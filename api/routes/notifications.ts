// A signed-in user's notification inbox (GET /api/me/notifications): newest first, unread count, mark one or all
// read. Entries arrive from the go-live fan-out (api/notifications.ts), which also sends them live over Socket.IO.
import { createRoute } from '@hono/zod-openapi';
import { and, desc, eq, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import { notification } from '../../shared/db/index.ts';
import { notFound } from '../../shared/errors.ts';
import { requireUser } from '../access.ts';
import { unreadCount, type NotificationView } from '../notifications.ts';
import { cursorOf, json, PageCursor, problems, router, z } from '../openapi.ts';

const NotificationSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(['channel.live', 'vod.ready']).openapi({ description: 'channel.live: a followed channel went live; vod.ready: the whole quality ladder of one of your videos is ready (`vod`)' }),
    channel: z.object({ slug: z.string(), title: z.string(), broadcast: z.string().optional().openapi({ description: "The broadcast's own title, when it had one" }) }).nullable(),
    liveSessionId: z.uuid().nullable(),
    vod: z.object({ id: z.uuid(), title: z.string() }).optional().openapi({ description: 'vod.ready: the video' }),
    createdAt: z.iso.datetime(),
    read: z.boolean(),
  })
  .openapi('Notification');
const Inbox = z
  .object({
    items: z.array(NotificationSchema),
    unread: z.number().int(),
    next: z.string().nullable().openapi({ description: 'Pass as `before` for the next (older) page; null at the end.' }),
  })
  .openapi('NotificationPage');

type Row = typeof notification.$inferSelect;
const view = (n: Row): NotificationView => ({
  id: n.id,
  kind: n.kind,
  channel: (n.data as { slug?: string; title?: string }).slug ? (n.data as { slug: string; title: string }) : null,
  liveSessionId: n.liveSessionId,
  ...(n.kind === 'vod.ready' ? { vod: { id: (n.data as { vodId: string }).vodId, title: (n.data as { vodTitle?: string }).vodTitle ?? '' } } : {}),
  createdAt: n.createdAt.toISOString(),
  read: n.readAt !== null,
});

const tags = ['notifications'];

export const notificationsApp = router()
  .openapi(
    createRoute({
      method: 'get',
      path: '/notifications',
      tags,
      summary: 'Your notifications, newest first, with the unread count',
      request: {
        query: z.object({
          unread: z.enum(['true', 'false']).optional().openapi({ description: 'Only unread ones' }),
          limit: z.coerce.number().int().min(1).max(100).default(30),
          // a page boundary: the last entry's time and id (entries of one fan-out share a time)
          before: PageCursor.optional(),
        }),
      },
      responses: { 200: json(Inbox, 'A page of the inbox.'), ...problems(400, 401) },
    }),
    async (c) => {
      const me = requireUser(c);
      const q = c.req.valid('query');
      const where: (SQL | undefined)[] = [eq(notification.userId, me.id)];
      if (q.unread === 'true') where.push(isNull(notification.readAt));
      if (q.before) where.push(or(lt(notification.createdAt, q.before.at), and(eq(notification.createdAt, q.before.at), lt(notification.id, q.before.id))));
      const rows = await c.var.deps.database.db
        .select()
        .from(notification)
        .where(and(...where))
        .orderBy(desc(notification.createdAt), desc(notification.id))
        .limit(q.limit + 1);
      const page = rows.slice(0, q.limit);
      return c.json({ items: page.map(view), unread: await unreadCount(c.var.deps, me.id), next: rows.length > q.limit ? cursorOf(page.at(-1)!.createdAt, page.at(-1)!.id) : null }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/notifications/{id}/read',
      tags,
      summary: 'Mark one notification read',
      request: { params: z.object({ id: z.uuid('not a notification id') }) },
      responses: { 200: json(z.object({ unread: z.number().int() }), 'Marked; the unread count after.'), ...problems(400, 401, 404) },
    }),
    async (c) => {
      const me = requireUser(c);
      const done = await c.var.deps.database.db
        .update(notification)
        .set({ readAt: sql`coalesce(${notification.readAt}, now())` })
        .where(and(eq(notification.id, c.req.valid('param').id), eq(notification.userId, me.id)))
        .returning({ id: notification.id });
      if (!done.length) throw notFound('That notification');
      return c.json({ unread: await unreadCount(c.var.deps, me.id) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/notifications/read-all',
      tags,
      summary: 'Mark every notification read',
      responses: { 200: json(z.object({ marked: z.number().int(), unread: z.number().int() }), 'How many were marked.'), ...problems(401) },
    }),
    async (c) => {
      const me = requireUser(c);
      const done = await c.var.deps.database.db
        .update(notification)
        .set({ readAt: new Date() })
        .where(and(eq(notification.userId, me.id), isNull(notification.readAt)))
        .returning({ id: notification.id });
      return c.json({ marked: done.length, unread: 0 }, 200);
    },
  );
