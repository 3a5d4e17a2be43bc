// The bench's TestService handlers, in the async style (covet/grpc) — grpc-js.mjs wraps them in callbacks.
const payloads = new Map();
const payload = (n) => {
  let p = payloads.get(n);
  if (p === undefined) payloads.set(n, (p = { type: 'COMPRESSABLE', body: Buffer.alloc(n) }));
  return p;
};

export const unaryCall = (req) => ({ payload: payload(req.response_size) });

export async function* streamingOutputCall(req) {
  for (const p of req.response_parameters) yield { payload: payload(p.size) };
}
