// uWebSockets.js (npm `uwebsockets`, C++): the reference. PORT from the environment; prints "listening on PORT".
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const uWS = require('uwebsockets');
const port = Number(process.env.PORT ?? 3000);
let token = null;
uWS
  .App()
  .get('/*', (res) => {
    res.cork(() => {
      res.writeHeader('Content-Type', 'text/plain').end('Hello, World!');
    });
  })
  .listen('127.0.0.1', port, (t) => {
    token = t;
    if (!t) process.exit(1);
    console.log(`listening on ${port}`);
  });
process.once('SIGTERM', () => {
  if (token) uWS.us_listen_socket_close(token);
  process.exit(0);
});
