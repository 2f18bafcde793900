// @db-matrix
// @runtime-matrix
// Password reset and email verification end to end: mail goes through a real SMTP server (smtp-server from npm, on a
// loopback port) when SMTP_URL is set, or into the outbox an admin reads when it is not.
import * as assert from 'uvu/assert';
import { SMTPServer } from 'smtp-server';
import { createEmailVerificationToken } from 'better-auth/api';
import { sql } from 'drizzle-orm';
import { freePort, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { suite } from 'uvu';

const SECRET = 'an-auth-secret-for-the-mail-tests-0123456789';

type Received = { to: string; raw: string };

/** A real SMTP server on a free loopback port, keeping every message it accepts. */
async function smtpServer(): Promise<{ url: string; mails: Received[]; close(): Promise<void> }> {
  const mails: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'], // plain SMTP on loopback: no certificate to trust
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        for (const to of session.envelope.rcptTo) mails.push({ to: to.address, raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The link to `page` in a mail's text (quoted-printable soft breaks undone), and its token. */
function linkIn(text: string, page: 'reset-password' | 'verify-email'): { url: URL; token: string } {
  const flat = text.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const m = flat.match(new RegExp(`https?://[^\\s]+/${page}\\?token=[^\\s]+`));
  assert.ok(m, `a /${page} link in the mail:\n${flat}`);
  const url = new URL(m[0]);
  return { url, token: url.searchParams.get('token')! };
}

const lastTo = (mails: Received[], to: string) => mails.filter((m) => m.to === to).at(-1);

type Ctx = { api: TestApi; smtp: Awaited<ReturnType<typeof smtpServer>> };
const t = suite<Ctx>('mail by SMTP');
t.before(async (ctx) => {
  ctx.smtp = await smtpServer();
  ctx.api = await startTestApi({ SMTP_URL: ctx.smtp.url, MAIL_FROM: 'Glint <glint@example.test>', BETTER_AUTH_SECRET: SECRET });
});
t.after(async (ctx) => {
  await ctx.api?.stop();
  await ctx.smtp?.close();
});

t('POST /api/auth/request-password-reset mails a link through SMTP; its token sets a new password once', async ({ api, smtp }) => {
  const owner = await api.client().signUp('Rosa');
  const email = owner.user!.email;
  const asked = await api.client().post('/api/auth/request-password-reset', { email });
  assert.is(asked.status, 200);
  const mail = lastTo(smtp.mails, email);
  assert.ok(mail, 'the SMTP server received the mail');
  assert.match(mail.raw, /From: Glint <glint@example\.test>/);
  assert.match(mail.raw, /Subject: Reset your Glint password/);
  const { url, token } = linkIn(mail.raw, 'reset-password');
  assert.is(url.origin, api.base, 'the link opens this instance');

  const reset = await api.client().post('/api/auth/reset-password', { token, newPassword: 'a brand new password' });
  assert.is(reset.status, 200);
  assert.is((await owner.get('/api/me')).status, 401, 'the old session ended with the reset');
  const old = await api.client().post('/api/auth/sign-in/email', { email, password: 'correct horse battery' });
  assert.is(old.status, 401);
  const fresh = await api.client().post('/api/auth/sign-in/email', { email, password: 'a brand new password' });
  assert.is(fresh.status, 200);
  const again = await api.client().post('/api/auth/reset-password', { token, newPassword: 'yet another password' });
  assert.is(again.status, 400, 'a used token is refused');
  assert.is(again.body.code, 'INVALID_TOKEN');
});

t('POST /api/auth/reset-password refuses a wrong token and an expired one with 400 INVALID_TOKEN', async ({ api, smtp }) => {
  const c = await api.client().signUp('Sam');
  const wrong = await api.client().post('/api/auth/reset-password', { token: 'not-a-real-token-at-all', newPassword: 'whatever it is' });
  assert.is(wrong.status, 400);
  assert.is(wrong.body.code, 'INVALID_TOKEN');
  assert.is(wrong.headers.get('content-type'), 'application/problem+json');

  await api.client().post('/api/auth/request-password-reset', { email: c.user!.email });
  const { token } = linkIn(lastTo(smtp.mails, c.user!.email)!.raw, 'reset-password');
  await api.deps.database.db.execute(sql`update verification set expires_at = now() - interval '1 minute' where identifier = ${`reset-password:${token}`}`);
  const expired = await api.client().post('/api/auth/reset-password', { token, newPassword: 'whatever it is' });
  assert.is(expired.status, 400);
  assert.is(expired.body.code, 'INVALID_TOKEN');
  assert.is((await api.client().post('/api/auth/sign-in/email', { email: c.user!.email, password: 'correct horse battery' })).status, 200, 'password unchanged');
});

t('POST /api/auth/request-password-reset answers the same for an unknown address and mails nothing', async ({ api, smtp }) => {
  const before = smtp.mails.length;
  const r = await api.client().post('/api/auth/request-password-reset', { email: 'nobody-here@example.test' });
  assert.is(r.status, 200);
  assert.is(smtp.mails.length, before);
});

t('sign-up mails a verification link; GET /api/auth/verify-email with it marks the address verified', async ({ api, smtp }) => {
  const c = await api.client().signUp('Vera');
  const email = c.user!.email;
  assert.is((await c.get('/api/me')).body.emailVerified, false);
  const mail = lastTo(smtp.mails, email);
  assert.ok(mail, 'a verification mail on sign-up');
  assert.match(mail.raw, /Subject: Verify your email for Glint/);
  const { token } = linkIn(mail.raw, 'verify-email');
  const verified = await api.client().get(`/api/auth/verify-email?token=${encodeURIComponent(token)}`);
  assert.is(verified.status, 200);
  assert.is((await c.get('/api/me')).body.emailVerified, true);
});

t('POST /api/auth/send-verification-email mails a fresh link to the signed-in account', async ({ api, smtp }) => {
  const c = await api.client().signUp('Wes');
  const before = smtp.mails.filter((m) => m.to === c.user!.email).length;
  const r = await c.post('/api/auth/send-verification-email', { email: c.user!.email });
  assert.is(r.status, 200);
  assert.is(smtp.mails.filter((m) => m.to === c.user!.email).length, before + 1);
});

t('GET /api/auth/verify-email refuses a wrong token (INVALID_TOKEN) and an expired one (TOKEN_EXPIRED) with 401', async ({ api }) => {
  const c = await api.client().signUp('Xan');
  const wrong = await api.client().get('/api/auth/verify-email?token=garbage.token.here');
  assert.is(wrong.status, 401);
  assert.is(wrong.body.code, 'INVALID_TOKEN');
  const stale = await createEmailVerificationToken(SECRET, c.user!.email, undefined, -60);
  const expired = await api.client().get(`/api/auth/verify-email?token=${encodeURIComponent(stale)}`);
  assert.is(expired.status, 401);
  assert.is(expired.body.code, 'TOKEN_EXPIRED');
  assert.is((await c.get('/api/me')).body.emailVerified, false);
});

t.run();

// --- embedded defaults: no SMTP_URL, the outbox ---

const o = suite<{ api: TestApi; admin: Client }>('mail in the outbox (no SMTP_URL)');
o.before(async (ctx) => {
  ctx.api = await startTestApi({});
  ctx.admin = await ctx.api.client().signUp('Admin'); // the first account: admin
});
o.after(async (ctx) => {
  await ctx.api?.stop();
});

o('GET /api/admin/outbox shows an admin the mail kept instead of sent; its reset link works', async ({ api, admin }) => {
  const c = await api.client().signUp('Olive');
  const email = c.user!.email;
  assert.is((await api.client().post('/api/auth/request-password-reset', { email })).status, 200);
  const box = await admin.get('/api/admin/outbox');
  assert.is(box.status, 200);
  assert.is(box.body.via, 'outbox');
  const mine = box.body.mails.filter((m: { to: string }) => m.to === email);
  assert.equal(mine.map((m: { subject: string }) => m.subject), ['Reset your Glint password', 'Verify your email for Glint'], 'newest first');
  const { token } = linkIn(mine[0].text, 'reset-password');
  assert.is((await api.client().post('/api/auth/reset-password', { token, newPassword: 'from the outbox' })).status, 200);
  assert.is((await api.client().post('/api/auth/sign-in/email', { email, password: 'from the outbox' })).status, 200);
});

o('GET /api/admin/outbox is 403 to a signed-in non-admin and 401 signed out', async ({ api }) => {
  const user = await api.client().signUp('Nosy');
  const r = await user.get('/api/admin/outbox');
  assert.is(r.status, 403);
  assert.is(r.headers.get('content-type'), 'application/problem+json');
  assert.is((await api.client().get('/api/admin/outbox')).status, 401);
});

o.run();

// --- REQUIRE_EMAIL_VERIFICATION=true ---

const v = suite<{ api: TestApi; admin: Client }>('REQUIRE_EMAIL_VERIFICATION=true');
v.before(async (ctx) => {
  ctx.api = await startTestApi({ REQUIRE_EMAIL_VERIFICATION: 'true' });
  ctx.admin = await ctx.api.client().signUp('Boss').catch(() => ctx.api.client());
});
v.after(async (ctx) => {
  await ctx.api?.stop();
});

v('sign-in is refused (403 EMAIL_NOT_VERIFIED) until the mailed link is opened', async ({ api }) => {
  const email = 'strict@example.test';
  const up = await api.client().post('/api/auth/sign-up/email', { name: 'Strict', email, password: 'a good password' });
  assert.is(up.status, 200);
  const refused = await api.client().post('/api/auth/sign-in/email', { email, password: 'a good password' });
  assert.is(refused.status, 403);
  assert.is(refused.body.code, 'EMAIL_NOT_VERIFIED');
  const result = (await api.deps.database.db.execute(sql`select text from mail_outbox where "to" = ${email} order by id desc limit 1`)) as unknown as { rows: { text: string }[] };
  const [row] = result.rows;
  const { token } = linkIn(row!.text, 'verify-email');
  assert.is((await api.client().get(`/api/auth/verify-email?token=${encodeURIComponent(token)}`)).status, 200);
  assert.is((await api.client().post('/api/auth/sign-in/email', { email, password: 'a good password' })).status, 200);
});

v.run();
