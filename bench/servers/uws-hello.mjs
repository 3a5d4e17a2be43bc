// uWebSockets.js (npm `uwebsockets`, C++): the reference. PORT from the environment; prints "listening on PORT".
import { createRequire } from 'node:module';
import { listenUws } from './uws-listen.mjs';

const require = createRequire(import.meta.url);
const uWS = require('uwebsockets');
const port = Number(process.env.PORT ?? 3000);
const app = uWS
  .App()
  .get('/*', (res) => {
    res.cork(() => {
      res.writeHeader('Content-Type', 'text/plain').end('Hello, World!');
    });
  });
listenUws(uWS, app, port);
