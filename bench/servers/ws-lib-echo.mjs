// The `ws` library's echo on any path. PORT from the environment; COMPRESS=1 enables permessage-deflate.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1', perMessageDeflate: process.env.COMPRESS === '1' });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
wss.on('listening', () => console.log(`listening on ${wss.address().port}`));
process.once('SIGTERM', () => wss.close(() => process.exit(0)));
