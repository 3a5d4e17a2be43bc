// Covet WebSocket echo on any path. PORT from the environment; COMPRESS=1 enables permessage-deflate.
import { createWsServer } from '../../dist/lib/ws/index.js';

const server = createWsServer({
  perMessageDeflate: process.env.COMPRESS === '1',
  onConnection: (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
});
const addr = await server.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${addr.port}`);
process.once('SIGTERM', () => server.close({ graceMs: 500 }).then(() => process.exit(0)));
