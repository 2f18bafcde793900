// The signed-in user, and user administration (roles) for admins.
import { createRoute } from '@hono/zod-openapi';
import { and, asc, count, eq, ne } from 'drizzle-orm';
import { ROLES, user } from '../../shared/db/index.ts';
import { conflict, notFound } from '../../shared/errors.ts';
import { requireRole, requireUser } from '../access.ts';
import { lockAdminRoles } from '../auth.ts';
import { json, problems, router, z } from '../openapi.ts';

export const UserSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    emailVerified: z.boolean(),
    image: z.string().nullable(),
    role: z.enum(ROLES),
    createdAt: z.iso.datetime(),
  })
  .openapi('User');

const serialize = (u: typeof user.$inferSelect) => ({
  id: u.id,
  name: u.name,
  email: u.email,
  emailVerified: u.emailVerified,
  image: u.image,
  role: u.role,
  createdAt: u.createdAt.toISOString(),
});

const tags = ['users'];

export const meApp = router().openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags,
    summary: 'The signed-in user',
    responses: { 200: json(UserSchema, 'You.'), ...problems(401) },
  }),
  async (c) => {
    const me = requireUser(c);
    const [row] = await c.var.deps.database.db.select().from(user).where(eq(user.id, me.id));
    if (!row) throw notFound('Your account');
    return c.json(serialize(row), 200);
  },
);

export const usersApp = router()
  .openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List users (admin)',
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
        }),
      },
      responses: { 200: json(z.array(UserSchema), 'Users, oldest first.'), ...problems(400, 401, 403) },
    }),
    async (c) => {
      requireRole(c, 'admin');
      const { limit, offset } = c.req.valid('query');
      const rows = await c.var.deps.database.db.select().from(user).orderBy(asc(user.createdAt), asc(user.id)).limit(limit).offset(offset);
      return c.json(rows.map(serialize), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      tags,
      summary: "Change a user's role (admin)",
      request: {
        params: z.object({ id: z.string().max(64) }),
        body: { required: true, content: { 'application/json': { schema: z.object({ role: z.enum(ROLES) }).strict().openapi('UpdateUser') } } },
      },
      responses: { 200: json(UserSchema, 'Updated.'), ...problems(400, 401, 403, 404, 409, 413, 415) },
    }),
    async (c) => {
      requireRole(c, 'admin');
      const { db } = c.var.deps.database;
      const { id } = c.req.valid('param');
      const { role } = c.req.valid('json');
      const updated = await db.transaction(async (tx) => {
        // two admins demoting each other at once must not both see the other as the admin left
        await lockAdminRoles(tx);
        const [target] = await tx.select().from(user).where(eq(user.id, id)).for('update');
        if (!target) throw notFound('That user');
        if (target.role === 'admin' && role !== 'admin') {
          const [others] = await tx.select({ n: count() }).from(user).where(and(eq(user.role, 'admin'), ne(user.id, id)));
          if ((others?.n ?? 0) === 0) throw conflict('This is the last admin; make someone else admin first.');
        }
        const [row] = await tx.update(user).set({ role }).where(eq(user.id, id)).returning();
        return row!;
      });
      return c.json(serialize(updated), 200);
    },
  );
