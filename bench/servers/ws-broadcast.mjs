// Covet broadcast server: a binary message from any client makes the server send one text message to
// every connection (framed once: prepareMessage + sendPrepared). PORT from the environment.
import { createWsServer, prepareMessage } from '../../dist/lib/ws/index.js';

const clients = new Set();
const server = createWsServer({
  onConnection: (ws) => {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.on('message', (_data, isBinary) => {
      if (!isBinary) return;
      const msg = prepareMessage(JSON.stringify({ type: 'news', at: Date.now(), body: 'x'.repeat(64) }));
      for (const c of clients) c.sendPrepared(msg);
    });
  },
});
const addr = await server.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${addr.port}`);
process.once('SIGTERM', () => server.close({ graceMs: 500 }).then(() => process.exit(0)));
