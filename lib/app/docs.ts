/**
 * The interactive API page: Swagger UI, served by `serveStatic` and pointed at the app's OpenAPI
 * document. No inline script, so it works under a strict CSP. The package ships the two asset files it
 * needs (`dist/vendor/swagger-ui`, copied at build), so users install no swagger-ui-dist and no
 * install-time telemetry; from a source checkout they come from the dev dependency.
 */
import { escapeHtml } from './html.js';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from './app.js';
import { serveStatic } from './static.js';

const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'";

/** Adds `docsPath` (the page), `docsPath/init.js` and the Swagger UI assets under `docsPath/ui/`. */
export function addDocsPage(app: App, docsPath: string, specPath: string | Array<{ name: string; url: string }>, title: string): void {
  const root = swaggerUiRoot();
  const base = docsPath.replace(/\/$/, '');
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<link rel="stylesheet" href="${base}/ui/swagger-ui.css"></head>` +
    `<body>${typeof specPath === 'string' ? '' : `<label style="display:block;padding:8px 20px;font-family:sans-serif">API version <select id="covet-version">${specPath.map((s) => `<option value="${escapeHtml(s.url)}">${escapeHtml(s.name)}</option>`).join('')}</select></label>`}<div id="swagger-ui"></div><script src="${base}/ui/swagger-ui-bundle.js"></script>` +
    `<script src="${base}/init.js"></script></body></html>`;
  // validatorUrl null: the page would otherwise fetch a badge from validator.swagger.io.
  // Several documents (one per API version): a select above the page loads the one picked.
  const specs = typeof specPath === 'string' ? [{ name: '', url: specPath }] : specPath;
  let init = `window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specs[0]!.url)}, dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null });\n`;
  if (specs.length > 1) init += `document.getElementById('covet-version').addEventListener('change', (e) => { window.ui.specActions.updateUrl(e.target.value); window.ui.specActions.download(e.target.value); });\n`;
  const hidden = { hide: true, version: false } as const; // out of the documents, of no API version
  app.get(base, hidden, (ctx) => {
    ctx.res.setHeader('content-type', 'text/html; charset=utf-8');
    ctx.res.setHeader('content-security-policy', CSP);
    return html;
  });
  app.get(`${base}/init.js`, hidden, (ctx) => {
    ctx.res.setHeader('content-type', 'text/javascript; charset=utf-8');
    return init;
  });
  app.get(`${base}/ui/{path:path}`, hidden, serveStatic(root, { maxAge: 86400, index: false }));
}

function swaggerUiRoot(): string {
  const vendored = fileURLToPath(new URL('../../vendor/swagger-ui/', import.meta.url));
  if (existsSync(path.join(vendored, 'swagger-ui-bundle.js'))) return vendored;
  return path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

