// The groups of `npm run mutate` (#28): each layer's modules and the tests that own them. One list, read by
// scripts/mutate.mjs and stryker.config.mjs.

/** group → modules to mutate and the tests (globs) that run against them. */
export const GROUPS = {
  // The parser's own tests and properties; server.test.ts drives it through sockets (seconds per mutant).
  http1: { mutate: ['lib/http1/parser.ts'], tests: ['test/http1/parser.test.ts', 'test/http1/parser-rules.test.ts', 'test/http1/regressions.test.ts', 'fuzz/http1-properties.test.ts'] },
  // The session against every HTTP/2 test (sockets, raw frames, flow control: seconds per mutant).
  http2: { mutate: ['lib/http2/session.ts', 'lib/http2/request-head.ts'], tests: ['test/http2/**/*.test.ts'] },
  // The pure codecs against their own tests.
  hpack: {
    mutate: ['lib/http2/frame-parser.ts', 'lib/http2/hpack/*.ts', '!lib/http2/hpack/tables.ts'],
    tests: ['test/http2/frames.test.ts', 'test/http2/frame-parser-rules.test.ts', 'test/http2/hpack.test.ts', 'test/http2/hpack-rules.test.ts'],
  },
  ws: {
    mutate: ['lib/ws/frame-parser.ts', 'lib/ws/receiver.ts', 'lib/ws/permessage-deflate.ts', 'lib/ws/utf8.ts'],
    // Not conformance.test.ts: its echo server is a child process running the build, which mutants never reach.
    tests: ['test/ws/interop.test.ts', 'test/ws/negotiation.test.ts', 'test/ws/over-http2.test.ts', 'test/ws/utf8.test.ts', 'test/ws/websocket.test.ts', 'test/ws/*-rules.test.ts', 'fuzz/ws-properties.test.ts'],
  },
  router: { mutate: ['lib/router/*.ts'], tests: ['test/router/**/*.test.ts', 'fuzz/router-properties.test.ts'] },
  jwt: { mutate: ['lib/app/auth/jwt.ts'], tests: ['test/app/auth/jwt.test.ts', 'test/app/auth/jwt-rules.test.ts'] },
  csrf: { mutate: ['lib/app/auth/csrf.ts'], tests: ['test/app/auth/csrf.test.ts'] },
  cookies: { mutate: ['lib/app/cookies.ts'], tests: ['test/app/cookies*.test.ts', 'test/app/auth/web.test.ts'] },
  serializer: { mutate: ['lib/app/serializer.ts'], tests: ['test/app/serializer*.test.ts', 'test/app/schema*.test.ts'] },
  // The statements themselves; the database-backed ORM suites (which show they mean what they say) take
  // seconds per mutant.
  orm: { mutate: ['lib/app/db/sql.ts', 'lib/app/orm/where.ts'], tests: ['test/app/orm/where-compile.test.ts'] },
  tenancy: { mutate: ['lib/app/tenancy/tenancy.ts'], tests: ['test/app/tenancy.test.ts', 'test/app/tenancy-rules.test.ts'] },
  // QPACK's codecs against their own tests (pure: milliseconds per mutant).
  qpack: { mutate: ['lib/http3/qpack/encoder.ts', 'lib/http3/qpack/decoder.ts', 'lib/http3/qpack/primitives.ts'], tests: ['test/http3/qpack*.test.ts'] },
  // The connection and its bare-handle I/O (#34) against the socket layer's tests (real sockets on loopback;
  // not cluster.test.ts: its workers run the build).
  net: {
    mutate: ['lib/net/connection.ts', 'lib/net/handle-io.ts'],
    tests: ['test/net/net.test.ts', 'test/net/handle-io.test.ts', 'test/net/connection-rules.test.ts', 'test/net/direct-write.test.ts', 'test/net/shared-read.test.ts', 'test/net/node-lines.test.ts'],
  },
  // Congestion control alone and in the connection (the in-process test client).
  congestion: { mutate: ['lib/quic/congestion.ts', 'lib/quic/cubic.ts'], tests: ['test/quic/congestion.test.ts', 'test/quic/cubic.test.ts'] },
};
