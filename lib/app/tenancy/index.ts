/**
 * `covet/app/tenancy`: the tenant of each request (host, header, path, JWT claim) and PostgreSQL-enforced
 * isolation — row-level security or a schema per tenant — for the ORM, raw SQL, cache keys and jobs.
 * @module
 */
export { createTenancy, Tenancy, fromHost, fromHeader, fromPath, fromClaim, type TenancyOptions, type TenantResolver } from './tenancy.js';
