/** The example's tables (`covet/app/orm`); examples/migrations holds the SQL that creates them. */
import { bigint, belongsTo, boolean, hasMany, integer, now, serial, table, text, timestamptz, varchar } from '../lib/app/orm/index.js';

export const users = table('users', {
  id: serial().primaryKey(),
  name: text().notNull(),
  email: text().notNull().unique(),
  /** scrypt (covet/app/auth hashPassword); null for users created before sign-in existed. */
  passwordHash: text(),
  createdAt: timestamptz().notNull().default(now()),
  /** When the address was confirmed by the link mailed at sign-up; null until then. */
  emailVerifiedAt: timestamptz(),
  /** Bearer tokens issued before this are refused (set by a password reset). */
  tokensValidFrom: timestamptz(),
  /** The TOTP seed, sealed (AES-256-GCM under SEAL_KEY); `totpEnabled` once a first code confirmed it. */
  totpSecret: text(),
  totpEnabled: boolean().notNull().default(false),
  /** The last time step a code was accepted at (each code once). */
  totpStep: integer(),
  /** SHA-256 of the unused recovery codes, as a JSON array. */
  recoveryHashes: text(),
});

/** Password-reset and address-confirmation tokens, kept only as their SHA-256 (covet/app/auth account tokens). */
export const accountTokens = table('account_tokens', {
  hash: varchar(64).primaryKey(),
  purpose: text().notNull(),
  userId: integer().notNull().references(() => users.columns.id, { onDelete: 'cascade' }),
  email: text(),
  /** Milliseconds since the epoch. */
  expires: bigint().notNull(),
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
  tables: { users, notes, accountTokens },
  relations: {
    users: { notes: hasMany(() => notes, 'ownerId') },
    notes: { owner: belongsTo(() => users, 'ownerId') },
  },
};
