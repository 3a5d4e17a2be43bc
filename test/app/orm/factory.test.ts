/**
 * Factories (#30.11): rows from a sequence and overrides, written through the repository, related rows
 * made on the way; `build` writes nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../lib/app/db/index.js';
import { boolean, createOrm, createSchemaSql, factory, integer, serial, table, text } from '../../../lib/app/orm/index.js';

const users = table('users', { id: serial().primaryKey(), name: text().notNull().unique() });
const todos = table('todos', { id: serial().primaryKey(), ownerId: integer().notNull().references(() => users.columns.id), title: text().notNull(), done: boolean().notNull().default(false) });
const db = openDatabase({ url: 'sqlite::memory:' });
afterAll(() => db.close());

describe('factory', () => {
  it('numbers its rows, takes overrides, makes related rows through its defaults, and build writes nothing', async () => {
    await db.exec(createSchemaSql([users, todos], 'sqlite').up.join('\n'));
    const orm = createOrm(db, { tables: { users, todos } });
    const userRows = factory(orm.users, (n) => ({ name: `user ${n}` }));
    const todoRows = factory(orm.todos, (n) => ({ title: `todo ${n}`, ownerId: async () => (await userRows.create()).id }));

    expect(await userRows.build()).toEqual({ name: 'user 1' });
    expect(await orm.users.count()).toBe(0); // built, not written
    const ann = await userRows.create({ name: 'Ann' });
    expect(ann).toEqual({ id: 1, name: 'Ann' }); // the row as the database returns it
    const made = await todoRows.createMany(2, (i) => ({ done: i === 1 }));
    expect(made.map((t) => [t.title, t.done, t.ownerId])).toEqual([['todo 1', false, 2], ['todo 2', true, 3]]);
    expect((await orm.users.findMany({ orderBy: { id: 'asc' } })).map((u) => u.name)).toEqual(['Ann', 'user 3', 'user 4']); // 3 and 4: the sequence goes on
    const mine = await todoRows.create({ ownerId: ann.id, title: undefined }); // an undefined override keeps the default
    expect([mine.ownerId, mine.title]).toEqual([ann.id, 'todo 3']);
    expect(await orm.users.count()).toBe(3); // the owner given: no user made for it
    // A failing insert says so (a unique name taken), and the sequence still moves on.
    await expect(userRows.create({ name: 'Ann' })).rejects.toMatchObject({ status: 409 });
    expect((await userRows.create()).name).toBe('user 6');
  });
});
