/**
 * `covet/app/orm`: typed tables, a query builder whose values are always parameters, relations loaded
 * without N+1, and migrations (runner with an advisory lock, and a generator diffing models against the
 * live schema). Works on `covet/app/db` — PostgreSQL or PGlite — without the HTTP app.
 * @module
 */
export * from './columns.js';
export { table, createTableSql, snakeCase, type Table, type Row, type Insert, type Columns, type IndexSpec, type AnyColumn } from './table.js';
export { compileWhere, escapeLike, type Where, type Comparison } from './where.js';
export { belongsTo, hasMany, hasOne, manyToMany, type Relation, type BelongsTo, type HasMany, type HasOne, type ManyToMany } from './relations.js';
export { Repository, tableTag, type QueryCache, type FindOptions, type OrderBy, type Direction, type Aggregates, type ConflictOptions, type RelationWhere, type WithResult, type Relations, type ManyToManyLinks, type ManyToManyName } from './repository.js';
export type { DialectName } from './dialect.js';
export { createOrm, type Orm, type Schema } from './orm.js';
export { Migrator, MigrationError, loadMigrations, migrationsFolder, diffSchema, createSchemaSql, migrationText, generateMigration, type Migration, type MigrationStatus, type SchemaDiff } from './migrate.js';
export { OrmError } from './errors.js';
export { factory, type Factory, type FactoryDefaults } from './factory.js';
