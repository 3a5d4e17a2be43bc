/**
 * `covet/app/db`: a PostgreSQL driver on `pg-protocol` and our `lib/net`, with PGlite embedded as the
 * default. Usable without the HTTP app.
 * @module
 */
export { openDatabase, type Database } from './open-database.js';
export { Db, createDb, Transaction, inTransaction, type DbOptions, type Queryable, type TransactionOptions, type IsolationLevel } from './db.js';
export { PgConnection, type ConnectionOptions, type QueryOptions, type QueryResult, type FieldInfo } from './connection.js';
export { Pool, type PoolOptions, type PoolStats, type Reserved } from './pool.js';
export { sql, Sql, Identifier } from './sql.js';
export { PgError, ConnectionError, PoolTimeoutError } from './errors.js';
export { isReadStatement, type ReplicaOptions, type ReplicaStats } from './replicas.js';
export { parseConnectionString, type ConnectionConfig } from './url.js';
export { OID, encodeParam, parseArray, typeParsers, type TypeOptions, type TypeParser } from './types.js';
export { ScramClient } from './scram.js';
export type { PGliteLike } from './transport.js';
export { SqliteDb, SqliteError, sqlitePath, type SqliteOptions } from './sqlite.js';
export { MysqlDb, MysqlError, type MysqlOptions } from './mysql.js';
export { splitStatements, type ScriptStatement } from './statements.js';
