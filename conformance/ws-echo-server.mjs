// `npm run conformance:ws`: our WebSocket echo server, with the default options, for the Autobahn
// fuzzingclient (PORT, default 9001; 0 picks a free port; COMPRESS=0 turns permessage-deflate off). Then,
// where Autobahn is installed:
//   wstest -m fuzzingclient -s conformance/autobahn-fuzzingclient.json
// and open reports/servers/index.html. Stop with Ctrl-C. test/ws/conformance.test.ts runs its own
// Autobahn-shaped cases against this very script, with compression on and off.
import { createWsServer } from '../dist/lib/ws/index.js';

const port = Number(process.env.PORT ?? 9001);
const compress = process.env.COMPRESS !== '0';
const server = createWsServer({
  perMessageDeflate: compress,
  onConnection: (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
});
const addr = await server.listen({ port, host: '127.0.0.1' });
console.log(`covet ws echo server listening on ws://127.0.0.1:${addr.port} (permessage-deflate ${compress ? 'on' : 'off'}; Autobahn: wstest -m fuzzingclient -s conformance/autobahn-fuzzingclient.json)`);
process.once('SIGINT', () => server.close({ graceMs: 1000 }).then(() => process.exit(0)));
process.once('SIGTERM', () => server.close({ graceMs: 1000 }).then(() => process.exit(0)));
