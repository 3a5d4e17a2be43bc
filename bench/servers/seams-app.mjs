// The bench app for the seams (#27): POST /notes inserts a note through the ORM on PostgreSQL, with the
// audit log on (AUDIT=1) or off; GET /slow holds a pooled connection for SLOW_MS in a transaction (the
// overload bench). DATABASE_URL names a database the bench made; POOL sets the pool size.
import { createApp } from '../../dist/lib/app/index.js';
import { createDb } from '../../dist/lib/app/db/index.js';
import { createOrm, serial, table, text, integer } from '../../dist/lib/app/orm/index.js';
import { createAuditLog } from '../../dist/lib/app/audit/index.js';
import { Type } from '@sinclair/typebox';
import pino from 'pino';

const db = createDb({ url: process.env.DATABASE_URL, max: Number(process.env.POOL ?? 10) });
const notes = table('bench_notes', { id: serial().primaryKey(), ownerId: integer().notNull(), text: text().notNull() });
const audit = process.env.AUDIT === '1' ? createAuditLog(db) : undefined;
if (audit !== undefined) await audit.migrate();
const orm = createOrm(db, { tables: { notes } }, audit === undefined ? {} : { audit });
const app = createApp({ logger: pino({ level: 'silent' }) });
if (audit !== undefined) app.use(audit.context(() => ({ actor: 'bench' })));
const Note = Type.Object({ id: Type.Integer(), ownerId: Type.Integer(), text: Type.String() });
app.post('/notes', { status: 201, schema: { body: Type.Object({ text: Type.String({ maxLength: 1000 }) }), response: { 201: Note } } }, async (ctx) => (await orm.notes.insert({ ownerId: 1, text: ctx.body.text }))[0]);
const slow = `select pg_sleep(${Number(process.env.SLOW_MS ?? 20) / 1000})`;
app.get('/slow', async () => {
  await db.transaction((tx) => tx.query(slow));
  return { ok: true };
});
const port = Number(process.env.PORT);
await app.listen({ port, host: '127.0.0.1' });
console.log(`listening on ${port}`);
process.on('SIGTERM', async () => {
  await app.close(1000);
  await audit?.close?.();
  await db.close();
  process.exit(0);
});
