// Type-level tests for the ORM (compiled by test/typecheck.test.ts; nothing runs).
import { createDb } from '../../lib/app/db/index.js';
import { boolean, createOrm, integer, serial, table, text } from '../../lib/app/orm/index.js';

const items = table('items', { id: serial().primaryKey(), name: text().notNull(), done: boolean().notNull(), ownerId: integer() });
const orm = createOrm(createDb(), { tables: { items } }); // no relations at all

// A schema without relations: column filters are column filters (not relation filters).
void orm.items.findMany({ where: { done: true, name: { like: 'a%' }, ownerId: null } });
// @ts-expect-error -- not a column, and the table has no relations
void orm.items.findMany({ where: { nope: 1 } });
// @ts-expect-error -- a column filter of the wrong type
void orm.items.findMany({ where: { done: 'yes' } });
