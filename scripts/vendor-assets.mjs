// Copies the two Swagger UI files the /docs page serves (and their licence) into dist/vendor, so users get
// the page without installing swagger-ui-dist (whose @scarf/scarf dependency reports installs).
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const from = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
// Into dist/, or the build folder given (test/global-setup.ts builds beside dist/ and swaps it in).
const to = join(process.argv[2] ?? join(import.meta.dirname, '..', 'dist'), 'vendor', 'swagger-ui');
mkdirSync(to, { recursive: true });
for (const f of ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE']) copyFileSync(join(from, f), join(to, f));
