// Outgoing mail (password resets, email verification): one interface, two implementations chosen here from config —
// SMTP (SMTP_URL; nodemailer, in shared/host/smtp.ts) in production, or the database's outbox on embedded defaults,
// where an admin reads it (GET /api/admin/outbox) and hands links on by hand.
import type { Config } from './config.ts';
import { mailOutbox, type Db } from './db/index.ts';

/** One plain-text message to one address. */
export type Mail = { to: string; subject: string; text: string };

export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  /** Sends (or keeps) the message; rejects when it could not. */
  send(mail: Mail): Promise<void>;
  close(): Promise<void>;
}

/** Keeps every message in mail_outbox instead of sending it. */
export class OutboxMailer implements Mailer {
  readonly kind = 'outbox' as const;
  constructor(private readonly db: Db) {}

  async send(mail: Mail): Promise<void> {
    await this.db.insert(mailOutbox).values(mail);
  }

  async close(): Promise<void> {}
}

/** The one place that picks the implementation. */
export async function createMailer(config: Config, db: Db): Promise<Mailer> {
  if (config.mail.smtpUrl) {
    const { SmtpMailer } = await import('./host/smtp.ts');
    return new SmtpMailer(config.mail.smtpUrl, config.mail.from);
  }
  return new OutboxMailer(db);
}

/** The mail that carries a password-reset link. */
export const resetPasswordMail = (to: string, name: string, url: string): Mail => ({
  to,
  subject: 'Reset your Glint password',
  text: `Hi ${name},\n\nSomeone (hopefully you) asked to reset the password of your Glint account. Choose a new one here:\n\n${url}\n\nThe link works once, for one hour. If you did not ask, ignore this mail: your password stays as it is.\n`,
});

/** The mail that carries an email-verification link. */
export const verifyEmailMail = (to: string, name: string, url: string): Mail => ({
  to,
  subject: 'Verify your email for Glint',
  text: `Hi ${name},\n\nConfirm that this is your address by opening this link:\n\n${url}\n\nThe link works for 24 hours. If you did not create a Glint account, ignore this mail.\n`,
});
