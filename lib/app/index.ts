/**
 * `covet/app`: the framework — routes with typed params and TypeBox schemas (validation with defaults and
 * formats, inferred types, response checks, OpenAPI 3.1 with Swagger UI), onion middleware and lifecycle
 * hooks, dependencies (auth among them), groups, WebSocket routes, problem+json errors, logging, `inject`
 * and `testClient`, and one `listen` for HTTP/1.1 + HTTP/2. The services are subpaths: `covet/app/db`,
 * `covet/app/orm`, `covet/app/auth`, `covet/app/cache`, `covet/app/realtime`.
 * @module
 */
export { App, PluginError, type AppOptions, type ListenOptions, type Plugin, type RegisterOptions, type RequestWrapper } from './app.js';
export type { SignalOptions } from './process-lifecycle.js';
export { createApp, type CreateAppOptions } from './create-app.js';
export { definePlugin } from './plugin.js';
export type { Handler, Hooks, Middleware, WsRouteHandlers, RouteOptions, RouteEntry, RouteDefinition, Deprecation } from './route.js';
export { openApi, type OpenApiOptions } from './openapi-serve.js';
import './graphql/shorthand.js';
export { SchemaError, type RouteSchema, type SchemaTypes, type FieldError, type JsonInput } from './schema.js';
export { registerFormat, STANDARD_FORMATS } from './formats.js';
/** TypeBox's schema builder, for route schemas (`Type.Object({ ... })`) without a separate import. */
export { Type, type Static, type TSchema } from '@sinclair/typebox';
export { buildOpenApi, documented, toYaml, type MiddlewareDoc } from './openapi.js';
export { Context, type AnyResponse, type Logger, type ContextExtensions } from './context.js';
export { HttpError, problemBody, sendProblem, type ProblemFields } from './errors.js';
export { inject, type InjectOptions, type InjectResponse } from './inject.js';
export { cors, type CorsOptions } from './middleware/cors.js';
export { securityHeaders, type SecurityHeaderOptions } from './middleware/security-headers.js';
export { health, type HealthCheck, type HealthOptions, type CheckResult } from './health.js';
export { metrics, UNMATCHED_ROUTE, type MetricsOptions } from './metrics.js';
export { html, raw, safeJson, escapeHtml, Html, Raw } from './html.js';
export { sanitizeHtml, RICH_TEXT, type SanitizeOptions } from './sanitize.js';
export { compileVersioning, versioning, VERSIONING, type Versioning, type VersioningOptions, type VersionSource } from './versioning.js';
export { tracing, enableTracing, disableTracing, traceparentHeader, type TracingOptions } from './tracing.js';
export { computeEtag, etagMatches } from './etag.js';
export { parseCookies, serializeCookie, signCookieValue, unsignCookieValue, type CookieOptions } from './cookies.js';
export { accessLog, type AccessLogOptions } from './middleware/access-log.js';
export { negotiateEncoding, isCompressible, type CompressionOptions, type Encoding } from './compression.js';
export { testClient, type TestClient, type TestRequest, type TestResponse } from './test-client.js';
export { dep, type Dep, type Use, type SecurityScheme } from './deps.js';
export { type TrustProxy } from './proxy.js';
export { serveStatic, staticFiles, parseRange, type StaticOptions } from './static.js';
export { timeout } from './middleware/timeout.js';
export { MultipartParser, MultipartError, multipartBoundary, parseContentDisposition, type MultipartHandler, type MultipartParserLimits } from './multipart/parser.js';
export { MultipartReader, readMultipart, DEFAULT_MULTIPART_LIMITS, type MultipartLimits, type Part, type FieldPart, type FilePart, type SavedFile, type MultipartResult } from './multipart/reader.js';
export { negotiateMediaType, negotiateLanguage, parseAccept, MEDIA_SHORTHANDS, type AcceptRange } from './negotiate.js';
export { compileSerializer, ResponseShapeError, UnsupportedResponseSchema, type Serializer } from './serializer.js';
export { formatRoutes, type RouteListing } from './route-list.js';
export { MissingPeerError } from './optional-peer.js';
export { redisGuard, redisCheck, RedisUnavailableError, REDIS_COMMAND_TIMEOUT_MS, type RedisClient, type RedisGuard } from './redis-client.js';
