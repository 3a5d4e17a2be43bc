// Type-level tests for plugins (compiled by test/typecheck.test.ts; nothing runs): options required when
// the plugin has them, checked for their type, `prefix` always allowed; context members typed through
// the ContextExtensions interface.
import { createApp, definePlugin } from '../../lib/app/index.js';

declare module '../../lib/app/index.js' {
  interface ContextExtensions {
    tenantId: string;
  }
}

const withOptions = definePlugin('with', (app, o: { token: string }) => {
  app.decorateContext('tenantId', () => o.token);
  app.get('/me', (ctx) => ctx.ext('tenantId').toUpperCase()); // a string, by the augmentation
});
const app = createApp();
app.register(withOptions, { token: 'x', prefix: '/a' });
// @ts-expect-error -- its options are required
app.register(withOptions);
// @ts-expect-error -- an option of the wrong type
app.register(withOptions, { token: 1 });
const without = definePlugin('without', (a) => void a.get('/', () => 'x'));
app.register(without);
app.register(without, { prefix: '/n' });
app.get('/x', (ctx) => {
  // @ts-expect-error -- an untyped member is unknown until given a type
  ctx.ext('other').foo;
  return ctx.ext<{ foo: string }>('other').foo;
});
