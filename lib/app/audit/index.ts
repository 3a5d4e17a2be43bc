/**
 * `covet/app/audit`: an append-only, hash-chained audit log of ORM writes and application events, on
 * PostgreSQL, PGlite, SQLite or MySQL/MariaDB.
 * @module
 */
export { createAuditLog, AuditLog, type AuditEntry, type AuditEvent, type AuditLogOptions, type AuditQuery, type AuditScope, type AuditSink, type AuditVerdict } from './log.js';
