/**
 * Relations between tables, and their loading: eager loading takes one query per relation whatever the
 * number of rows (`where key = any($1)`), never one per row.
 */
import type { Table } from './table.js';

export interface BelongsTo<T extends Table = Table> {
  kind: 'belongsTo';
  target: () => T;
  /** Our column holding the target's primary key. */
  foreignKey: string;
}
export interface HasMany<T extends Table = Table> {
  kind: 'hasMany';
  target: () => T;
  /** The target's column holding our primary key. */
  foreignKey: string;
}
export interface HasOne<T extends Table = Table> {
  kind: 'hasOne';
  target: () => T;
  foreignKey: string;
}
export interface ManyToMany<T extends Table = Table> {
  kind: 'manyToMany';
  target: () => T;
  through: () => Table;
  /** The join table's column holding our primary key. */
  from: string;
  /** The join table's column holding the target's primary key. */
  to: string;
}

export type Relation<T extends Table = Table> = BelongsTo<T> | HasMany<T> | HasOne<T> | ManyToMany<T>;

/** `note.owner`: our `foreignKey` column points at `target`'s primary key. */
export const belongsTo = <T extends Table>(target: () => T, foreignKey: string): BelongsTo<T> => ({ kind: 'belongsTo', target, foreignKey });
/** `user.notes`: `target`'s `foreignKey` column points at our primary key. */
export const hasMany = <T extends Table>(target: () => T, foreignKey: string): HasMany<T> => ({ kind: 'hasMany', target, foreignKey });
/** `user.profile`: like hasMany, at most one row. */
export const hasOne = <T extends Table>(target: () => T, foreignKey: string): HasOne<T> => ({ kind: 'hasOne', target, foreignKey });
/** `note.tags` through a join table with columns `from` (→ us) and `to` (→ target). */
export const manyToMany = <T extends Table>(target: () => T, through: () => Table, from: string, to: string): ManyToMany<T> => ({ kind: 'manyToMany', target, through, from, to });
