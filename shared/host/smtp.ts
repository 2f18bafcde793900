// SMTP delivery through nodemailer (a Node library: Deno runs it through its Node compatibility). It fits shared/mail.ts's
// Mailer by shape (no import of it: the host layer depends on nothing above it), and mail.ts chooses it or the outbox.
import nodemailer, { type Transporter } from 'nodemailer';

/** One plain-text message to one address (shared/mail.ts's Mail). */
type Message = { to: string; subject: string; text: string };

// a server that accepts the connection and then stalls must not hold a request for minutes
const TIMEOUT_MS = 15_000;

export class SmtpMailer {
  readonly kind = 'smtp' as const;
  private readonly transport: Transporter;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    const u = new URL(url);
    this.transport = nodemailer.createTransport({
      host: u.hostname,
      port: u.port ? Number(u.port) : u.protocol === 'smtps:' ? 465 : 587,
      secure: u.protocol === 'smtps:',
      auth: u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined,
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    });
  }

  async send(mail: Message): Promise<void> {
    await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text });
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
