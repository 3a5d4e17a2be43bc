/**
 * Mail for account flows: a `Mailer` is anything that sends a message; `smtpMailer` sends through an SMTP
 * server with nodemailer (an optional peer: STARTTLS, authentication, pooling, RFC 5322 encoding are its
 * business), `MemoryMailer` keeps messages for tests and development.
 */
import { importPeer } from '../optional-peer.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export interface SmtpMailerOptions {
  /** `smtp://user:pass@host:587` or `smtps://…:465`; or host and port. */
  url?: string;
  host?: string;
  port?: number;
  /** The From address. */
  from: string;
  /** TLS: require STARTTLS on plain ports (default true, except to localhost). */
  requireTls?: boolean;
  auth?: { user: string; pass: string };
}

/**
 * @example
 * ```ts
 * const mailer = smtpMailer({ url: process.env.SMTP_URL!, from: 'Notes <no-reply@example.com>' });
 * await mailer.send({ to: 'ann@example.com', subject: 'Hello', text: 'Hi Ann' });
 * ```
 */
export function smtpMailer(o: SmtpMailerOptions): Mailer {
  let transport: Promise<{ sendMail(m: object): Promise<unknown> }> | null = null;
  const local = (o.host ?? (o.url === undefined ? '' : new URL(o.url).hostname)) === 'localhost' || o.host === '127.0.0.1' || (o.url !== undefined && new URL(o.url).hostname === '127.0.0.1');
  const make = async () => {
    const nodemailer = await importPeer('nodemailer', 'sending mail', async () => (await import('nodemailer')).default);
    return nodemailer.createTransport(o.url !== undefined ? o.url : { host: o.host, port: o.port ?? 587, auth: o.auth, requireTLS: o.requireTls ?? !local });
  };
  return {
    async send(m) {
      transport ??= make();
      await (await transport).sendMail({ from: o.from, to: m.to, subject: m.subject, text: m.text, html: m.html });
    },
  };
}

/**
 * Messages kept in memory, newest last (tests, development).
 *
 * @example
 * ```ts
 * const mailer = new MemoryMailer();
 * await recovery.requestPasswordReset('ann@example.com');
 * console.log(mailer.sent.at(-1)?.subject);
 * ```
 */
export class MemoryMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  async send(m: MailMessage): Promise<void> {
    this.sent.push({ ...m });
  }
}
