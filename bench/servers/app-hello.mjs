// The smallest covet/app: one hello-world route, nothing else — what the app layer itself costs over the
// bare HTTP/1.1 server (bench/servers/http1-app-hello.mjs answers the same bytes). PORT from the
// environment; prints "listening on PORT".
import { createApp } from '../../dist/lib/app/index.js';

const app = createApp();
app.get('/', () => 'Hello, World!');
const server = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${server.address().port}`);
process.once('SIGTERM', () => app.close(1000).then(() => process.exit(0)));
