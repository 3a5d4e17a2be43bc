// Shared by the uWebSockets.js bench servers: listen on 127.0.0.1:`port`, print "listening on PORT" (what
// bench/lib.mjs's startServer waits for), and close the listen socket on SIGTERM.
export function listenUws(uWS, app, port) {
  let token = null;
  app.listen('127.0.0.1', port, (t) => {
    token = t;
    if (!t) process.exit(1);
    console.log(`listening on ${port}`);
  });
  process.once('SIGTERM', () => {
    if (token) uWS.us_listen_socket_close(token);
    process.exit(0);
  });
}
