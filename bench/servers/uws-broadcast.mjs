// uWebSockets.js's broadcast (npm `uwebsockets`, C++): every connection subscribes to one topic, and a binary
// message from any client publishes one text message to it — uWS's own fastest way to reach many sockets.
// PORT from the environment; prints "listening on PORT".
import { createRequire } from 'node:module';
import { listenUws } from './uws-listen.mjs';

const require = createRequire(import.meta.url);
const uWS = require('uwebsockets');
const port = Number(process.env.PORT ?? 3000);
const app = uWS.App();
app
  .ws('/*', {
    compression: uWS.DISABLED,
    idleTimeout: 0,
    open: (ws) => ws.subscribe('all'),
    message: (_ws, _data, isBinary) => {
      if (!isBinary) return;
      app.publish('all', JSON.stringify({ type: 'news', at: Date.now(), body: 'x'.repeat(64) }), false);
    },
  });
listenUws(uWS, app, port);
