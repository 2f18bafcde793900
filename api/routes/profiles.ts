// Public profile pages: a person's name, avatar, join date and channels — never their email. Addressed by user id
// (/u/<id> in the web app): display names are not unique.
import { createRoute } from '@hono/zod-openapi';
import { asc, eq } from 'drizzle-orm';
import { channel, user } from '../../shared/db/index.ts';
import { notFound } from '../../shared/errors.ts';
import { selectChannels } from '../channel-context.ts';
import { json, problems, router, z } from '../openapi.ts';
import { ChannelSchema, serialize as serializeChannel } from './channels.ts';

// more than anyone runs; the per-user channel creation budget keeps real accounts far below it
const PROFILE_CHANNELS_MAX = 100;

export const ProfileSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    image: z.string().nullable(),
    joinedAt: z.iso.datetime(),
    channels: z.array(ChannelSchema),
  })
  .openapi('Profile');

export const profilesApp = router().openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    tags: ['users'],
    summary: "A person's public profile: name, avatar, join date and channels (no email)",
    request: { params: z.object({ id: z.string().min(1).max(64) }) },
    responses: { 200: json(ProfileSchema, 'The profile.'), ...problems(400, 404) },
  }),
  async (c) => {
    const { db } = c.var.deps.database;
    const { id } = c.req.valid('param');
    const [person] = await db.select({ id: user.id, name: user.name, image: user.image, createdAt: user.createdAt }).from(user).where(eq(user.id, id));
    if (!person) throw notFound('That person');
    const channels = await selectChannels(db).where(eq(channel.ownerId, id)).orderBy(asc(channel.createdAt)).limit(PROFILE_CHANNELS_MAX);
    return c.json({ id: person.id, name: person.name, image: person.image, joinedAt: person.createdAt.toISOString(), channels: channels.map(serializeChannel) }, 200);
  },
);
