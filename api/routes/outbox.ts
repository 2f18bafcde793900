// The mail outbox (embedded defaults, no SMTP_URL): what Glint would have mailed, newest first, for an admin to read
// and hand on. With SMTP configured it stays empty.
import { createRoute } from '@hono/zod-openapi';
import { desc, lt } from 'drizzle-orm';
import { mailOutbox } from '../../shared/db/index.ts';
import { requireRole } from '../access.ts';
import { json, problems, router, z } from '../openapi.ts';

const OutboxMail = z
  .object({ id: z.number().int(), to: z.string(), subject: z.string(), text: z.string(), createdAt: z.iso.datetime() })
  .openapi('OutboxMail');

const OutboxPage = z
  .object({
    via: z.enum(['smtp', 'outbox']).openapi({ description: 'How this instance sends mail: by SMTP (this list stays empty) or into this outbox' }),
    mails: z.array(OutboxMail),
  })
  .openapi('OutboxPage');

export const outboxApp = router().openapi(
  createRoute({
    method: 'get',
    path: '/outbox',
    tags: ['admin'],
    summary: 'Mail kept in the outbox, newest first (admin)',
    request: {
      query: z.object({
        limit: z.coerce.number().int().min(1).max(200).default(50),
        before: z.coerce.number().int().min(1).optional().openapi({ description: 'Only mails with a smaller id (the next page)' }),
      }),
    },
    responses: { 200: json(OutboxPage, 'The outbox.'), ...problems(400, 401, 403) },
  }),
  async (c) => {
    requireRole(c, 'admin');
    const { limit, before } = c.req.valid('query');
    const rows = await c.var.deps.database.db
      .select()
      .from(mailOutbox)
      .where(before ? lt(mailOutbox.id, before) : undefined)
      .orderBy(desc(mailOutbox.id))
      .limit(limit);
    return c.json({ via: c.var.deps.mailer.kind, mails: rows.map((m) => ({ ...m, createdAt: m.createdAt.toISOString() })) }, 200);
  },
);
