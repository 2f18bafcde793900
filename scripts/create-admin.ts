// `npm run admin:create -- --email a@b.c [--password …] [--name …]`: makes an admin account on the configured
// database (the embedded PGlite by default), or promotes the existing account with that email.
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { loadConfig } from '../shared/config.ts';
import { openDatabase, user } from '../shared/db/index.ts';
import { createLogger } from '../shared/logger.ts';
import { createMailer } from '../shared/mail.ts';
import { createAuth, resolveAuthSecret } from '../api/auth.ts';
import path from 'node:path';

const { values } = parseArgs({ options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } } });
if (!values.email) {
  console.error('usage: npm run admin:create -- --email you@example.com [--password secret] [--name "Your Name"]');
  process.exit(2);
}
const config = loadConfig();
const log = createLogger('warn');
const database = await openDatabase({ url: config.databaseUrl, pgliteDir: path.join(config.dataDir, 'pglite') });
try {
  const [existing] = await database.db.select().from(user).where(eq(user.email, values.email.toLowerCase()));
  if (existing) {
    await database.db.update(user).set({ role: 'admin' }).where(eq(user.id, existing.id));
    console.log(`${existing.email} is now an admin.`);
  } else {
    const password = values.password ?? randomBytes(12).toString('base64url');
    const auth = createAuth({ config, db: database.db, secret: await resolveAuthSecret(config), log, mailer: await createMailer(config, database.db) });
    const created = await auth.api.signUpEmail({ body: { email: values.email, password, name: values.name ?? values.email.split('@')[0]! } });
    await database.db.update(user).set({ role: 'admin' }).where(eq(user.id, created.user.id));
    console.log(`Created admin ${values.email}${values.password ? '' : ` with password: ${password}`}`);
  }
} finally {
  await database.close();
}
