// The `ws` library's broadcast, as its README shows it: a binary message from any client makes the server
// send one text message to every open client. PORT from the environment.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { WebSocketServer, WebSocket } = require('ws');
const wss = new WebSocketServer({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
wss.on('connection', (ws) => {
  ws.on('message', (_data, isBinary) => {
    if (!isBinary) return;
    const msg = JSON.stringify({ type: 'news', at: Date.now(), body: 'x'.repeat(64) });
    for (const c of wss.clients) if (c.readyState === WebSocket.OPEN) c.send(msg);
  });
});
wss.on('listening', () => console.log(`listening on ${wss.address().port}`));
process.once('SIGTERM', () => wss.close(() => process.exit(0)));
