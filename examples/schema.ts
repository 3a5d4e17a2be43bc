/** The example's tables (`covet/app/orm`); examples/migrations holds the SQL that creates them. */
import { belongsTo, hasMany, integer, now, serial, table, text, timestamptz } from '../lib/app/orm/index.js';

export const users = table('users', {
  id: serial().primaryKey(),
  name: text().notNull(),
  email: text().notNull().unique(),
  /** scrypt (covet/app/auth hashPassword); null for users created before sign-in existed. */
  passwordHash: text(),
  createdAt: timestamptz().notNull().default(now()),
});

export const notes = table(
  'notes',
  {
    id: serial().primaryKey(),
    ownerId: integer().notNull().references(() => users.columns.id, { onDelete: 'cascade' }),
    text: text().notNull(),
    createdAt: timestamptz().notNull().default(now()),
  },
  { indexes: [{ columns: ['ownerId', 'createdAt'] }] },
);

export const schema = {
  tables: { users, notes },
  relations: {
    users: { notes: hasMany(() => notes, 'ownerId') },
    notes: { owner: belongsTo(() => users, 'ownerId') },
  },
};
