/**
 * The OpenAPI plugin (`createApp({ openapi })` registers it): serves the app's OpenAPI 3.1 document as
 * JSON and YAML — with versioning, one per API version (`/openapi/2.json`), the plain path the latest —
 * and the Swagger UI page. The documents are built on first request, when every route is known, with
 * what the app's `onOpenApi` hooks add; their routes belong to no API version and leave themselves out.
 */
import type { App } from './app.js';
import { addDocsPage } from './docs.js';
import { buildOpenApi, toYaml } from './openapi.js';
import { definePlugin } from './plugin.js';
import { routesInVersion, versionDoc, VERSIONING, type Versioning } from './versioning.js';

export interface OpenApiOptions {
  info: { title: string; version: string; description?: string };
  /** Default `/openapi.json`. */
  path?: string;
  /** The interactive page (Swagger UI); default `/docs`, `false` for none. */
  docs?: string | false;
}

/**
 * @example
 * ```ts
 * const app = createApp({ openapi: { info: { title: 'Notes', version: '1.0.0' } } }); // GET /openapi.json, /docs
 * ```
 */
export const openApi = definePlugin<OpenApiOptions>('openapi', (app, oa) => {
  // Added when the app starts serving, after every `use`, so app middleware wraps them like any route.
  app.onStart(() => serveDocuments(app, oa));
}, { encapsulate: false });

function serveDocuments(app: App, oa: OpenApiOptions): void {
  const v = app.value<Versioning>(VERSIONING) ?? null;
  const docs = new Map<number, { json: string | null; yaml: string | null; doc: Record<string, unknown> | null }>();
  const document = (i: number): { json: string | null; yaml: string | null; doc: Record<string, unknown> | null } => {
    let d = docs.get(i);
    if (d === undefined) docs.set(i, (d = { json: null, yaml: null, doc: null }));
    if (d.doc === null) {
      const version = v === null ? undefined : v.versions[i]!;
      const doc = v === null ? buildOpenApi(app.routeTable(), oa.info) : buildOpenApi(routesInVersion(app.routeTable(), i), { ...oa.info, version: version! }, versionDoc(v, i));
      for (const hook of app.openApiHooks()) hook(doc, version);
      d.doc = doc;
    }
    return d;
  };
  const path = oa.path ?? '/openapi.json';
  const base = path.replace(/\.json$/, '');
  const latest = v === null ? 0 : v.versions.length - 1;
  const own = { hide: true, version: false } as const;
  const serve = (at: string, i: number): void => {
    app.get(`${at}.json`, own, (ctx) => {
      const d = document(i);
      ctx.res.setHeader('content-type', 'application/json; charset=utf-8');
      ctx.res.end((d.json ??= JSON.stringify(d.doc)));
    });
    app.get(`${at}.yaml`, own, (ctx) => {
      const d = document(i);
      ctx.res.setHeader('content-type', 'application/yaml; charset=utf-8');
      ctx.res.end((d.yaml ??= toYaml(d.doc)));
    });
  };
  serve(base, latest);
  if (v !== null) for (let i = 0; i < v.versions.length; i++) serve(`${base}/${v.versions[i]}`, i);
  if (oa.docs !== false) addDocsPage(app, oa.docs ?? '/docs', v === null ? path : [...v.versions].reverse().map((name) => ({ name: `v${name}`, url: `${base}/${name}.json` })), oa.info.title);
}
