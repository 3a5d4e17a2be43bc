// `npm run conformance:h2`: our HTTP/2 server (h2c prior knowledge, PORT default 8080) for h2spec. Then,
// where h2spec is installed:  h2spec -h 127.0.0.1 -p 8080   (add --strict for the SHOULD-level cases).
// Stop with Ctrl-C.
import { createHttp2Server } from '../dist/lib/http2/index.js';

const port = Number(process.env.PORT ?? 8080);
const server = createHttp2Server(async (req, res) => {
  // Read whatever body comes (h2spec sends DATA on some streams), then answer.
  for await (const _chunk of req);
  res.setHeader('content-type', 'text/plain');
  res.end('ok\n');
});
await server.listen({ port, host: '127.0.0.1' });
console.log(`covet HTTP/2 server (h2c) on 127.0.0.1:${port}; run: h2spec -h 127.0.0.1 -p ${port}`);
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => server.close({ graceMs: 1000 }).then(() => process.exit(0)));
