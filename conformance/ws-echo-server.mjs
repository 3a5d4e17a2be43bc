// `npm run conformance:ws`: our WebSocket echo server for the Autobahn fuzzingclient (PORT, default
// 9001; permessage-deflate on). Then, where Autobahn is installed:
//   wstest -m fuzzingclient -s conformance/autobahn-fuzzingclient.json
// and open reports/servers/index.html. Stop with Ctrl-C.
import { createWsServer } from '../dist/lib/ws/index.js';

const port = Number(process.env.PORT ?? 9001);
const server = createWsServer({
  perMessageDeflate: true,
  maxMessageSize: 64 * 1024 * 1024,
  onConnection: (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
});
await server.listen({ port, host: '127.0.0.1' });
console.log(`covet ws echo server listening on ws://127.0.0.1:${port} (Autobahn: wstest -m fuzzingclient -s conformance/autobahn-fuzzingclient.json)`);
process.once('SIGINT', () => server.close({ graceMs: 1000 }).then(() => process.exit(0)));
process.once('SIGTERM', () => server.close({ graceMs: 1000 }).then(() => process.exit(0)));
