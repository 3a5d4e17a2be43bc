// Type-level tests for jobs on every database (#30.3; compiled by test/typecheck.test.ts, nothing runs):
// createJobs takes whatever openDatabase() returns — PostgreSQL/PGlite, SQLite, MySQL/MariaDB — and Redis;
// anything else is a type error.
import { Redis } from 'ioredis';
import { createDb, MysqlDb, openDatabase, SqliteDb } from '../../lib/app/db/index.js';
import { createJobs, type Jobs } from '../../lib/app/jobs/index.js';

const any: Jobs = createJobs(openDatabase());
const onSqlite: Jobs = createJobs(new SqliteDb(':memory:'));
const onMysql: Jobs = createJobs(new MysqlDb('mysql://root@127.0.0.1/test'));
const onPg: Jobs = createJobs(createDb());
const onRedis: Jobs = createJobs(new Redis());
const kind: 'postgres' | 'pglite' | 'sqlite' | 'mysql' | 'redis' = any.kind;
// @ts-expect-error -- not a database or Redis
createJobs({ query: () => Promise.resolve({ rows: [] }) });
void [onSqlite, onMysql, onPg, onRedis, kind];
