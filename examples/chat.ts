/**
 * A realtime chat on `covet/app`: rooms over WebSocket, shared by every process through Redis (start two
 * on different ports with the same REDIS_URL and people on either see each other), authenticated at the
 * upgrade (a JWT in the Authorization header, or the cookie `POST /login` sets for browsers — an
 * unauthenticated upgrade is a 401, never a socket), with presence per room.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 PORT=3001 node dist/examples/chat.js
 *   REDIS_URL=redis://127.0.0.1:6379 PORT=3002 node dist/examples/chat.js
 *   curl -c jar -H 'content-type: application/json' -d '{"name":"ann"}' localhost:3001/login
 *   websocat -H "cookie: $(...)" ws://localhost:3001/rooms/tea
 */
import { createApp, Type } from '../lib/app/index.js';
import { importKey, jwtAuth, signJwt } from '../lib/app/auth/index.js';
import type { RedisClient } from '../lib/app/redis-client.js';
import { Rooms } from '../lib/app/realtime/index.js';

export interface ChatOptions {
  /** Shared by the processes of one chat (HS256, at least 32 bytes). */
  secret: string;
  /** Without it, rooms are local to this process. */
  redis?: RedisClient;
  /** Redis key and channel prefix. Default `chat:`. */
  prefix?: string;
}

/** Builds the app and its rooms (exported for tests; started below when run directly). */
export function chatApp(options: ChatOptions) {
  const key = importKey(options.secret, ['HS256']);
  const auth = jwtAuth({ keys: [key], issuer: 'chat', cookie: 'chat_token' });
  const rooms = new Rooms({ ...(options.redis === undefined ? {} : { redis: options.redis }), prefix: options.prefix ?? 'chat:' });
  const app = createApp({ openapi: { info: { title: 'Chat example', version: '1.0.0' } } });

  // A stand-in for real sign-in: any name gets a day-long token (as JSON, and as an HttpOnly cookie).
  app.post('/login', { schema: { body: Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9_]{1,19}$' }) }), response: { 200: Type.Object({ token: Type.String() }) } } }, (ctx) => {
    const token = signJwt({}, key, { issuer: 'chat', subject: ctx.body.name, expiresIn: 86_400 });
    ctx.setCookie('chat_token', token, { httpOnly: true, sameSite: 'strict', path: '/', maxAge: 86_400 });
    return { token };
  });

  app.get('/rooms/{room:slug}/members', { deps: [auth], schema: { response: { 200: Type.Array(Type.String()) } } }, async (ctx) => {
    const names = (await rooms.presence(ctx.params.room)).map((m) => (m.meta as { name: string }).name);
    return [...new Set(names)].sort();
  });

  app.ws('/rooms/{room:slug}', {
    deps: [auth], // checked before the upgrade
    maxMessageSize: 4096, // a longer message closes the socket with 1009
    open(ws, ctx) {
      const room = ctx.params.room;
      // Listeners first, before anything is awaited: a message that arrives while the handler waits
      // (for Redis, say) would otherwise find no listener and be lost.
      let name: string | undefined;
      ws.on('message', (data, isBinary) => {
        if (isBinary) return ws.close(1003, 'text only');
        const text = String(data).slice(0, 2000);
        void rooms.broadcast(room, { type: 'message', from: name ?? '?', text, at: new Date().toISOString() });
      });
      ws.on('close', () => void (name !== undefined && rooms.broadcast(room, { type: 'left', name })));
      void (async () => {
        name = (await ctx.use(auth)).sub ?? '?';
        await rooms.join(ws, room, { name });
        await rooms.broadcast(room, { type: 'joined', name }, { except: ws });
      })();
    },
  });
  return { app, rooms };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const redis = process.env.REDIS_URL === undefined ? undefined : new (await import('ioredis')).Redis(process.env.REDIS_URL);
  const { app, rooms } = chatApp({ secret: process.env.CHAT_SECRET ?? 'dev only: set CHAT_SECRET in production!!', ...(redis === undefined ? {} : { redis }), ...(process.env.CHAT_PREFIX === undefined ? {} : { prefix: process.env.CHAT_PREFIX }) });
  const server = await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
  const addr = server.address();
  console.log(`chat listening on port ${typeof addr === 'object' && addr !== null ? addr.port : addr}${redis === undefined ? ' (rooms local to this process: set REDIS_URL to share them)' : ' (rooms shared through Redis)'}`);
  app.closeOnSignals({
    graceMs: 5000,
    beforeExit: async () => {
      await rooms.close();
      redis?.disconnect();
    },
  });
}
