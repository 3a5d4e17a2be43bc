// Type-level tests for the principal's type (#30.7; compiled by test/typecheck.test.ts, nothing runs):
// jwtAuth's `claims` schema types what ctx.use(auth) gives every handler; without one, the JWT claims.
import { createApp, Type } from '../../lib/app/index.js';
import { importKey, jwtAuth } from '../../lib/app/auth/index.js';

const keys = [importKey(Buffer.alloc(32), ['HS256'])];
const typed = jwtAuth({ keys, claims: Type.Object({ uid: Type.Integer(), role: Type.Union([Type.Literal('admin'), Type.Literal('member')]) }) });
const plain = jwtAuth({ keys });
const app = createApp();
app.get('/me', async (ctx) => {
  const me = await ctx.use(typed);
  const uid: number = me.uid;
  const role: 'admin' | 'member' = me.role;
  const sub: string | undefined = me.sub; // the registered claims are still there
  // @ts-expect-error -- uid is a number
  me.uid.toUpperCase();
  const p = await ctx.use(plain);
  // @ts-expect-error -- without a schema, a custom claim is unknown
  const n: number = p.uid;
  return { uid, role, sub, n };
});
