/**
 * Stateless reset (RFC 9000 §10.3): a server that no longer has a connection — it idled out, or the process
 * restarted with the same key — tells a client still sending to it, at once, instead of leaving it to time
 * out. Each connection id's token is an HMAC of the id under one key (§10.3.2: a restarted server with the
 * same `key` makes the same tokens); the reset is a short-header-looking datagram of random bytes ending in
 * the token, smaller than what triggered it so two endpoints cannot loop.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** The smallest datagram we answer with a reset, and the size of ours (one byte less: no loop, §10.3.3). */
const TRIGGER_MIN = 43;
const RESET_SIZE = 42;

/**
 * @example
 * ```ts
 * const resets = new StatelessResets(process.env.QUIC_RESET_KEY ? Buffer.from(process.env.QUIC_RESET_KEY, 'hex') : undefined);
 * const token = resets.token(connectionId); // its stateless_reset_token transport parameter
 * const reset = resets.packet(connectionId, datagram.length); // for a datagram to a connection we no longer have
 * ```
 */
export class StatelessResets {
  readonly #key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    this.#key = key;
  }

  /** The 16-byte token of a connection id. */
  token(cid: Uint8Array): Buffer {
    return createHmac('sha256', this.#key).update(cid).digest().subarray(0, 16);
  }

  /** A reset for a datagram of `length` bytes to `cid`, or null when it is too small to answer. */
  packet(cid: Uint8Array, length: number): Buffer | null {
    if (length < TRIGGER_MIN) return null;
    const out = randomBytes(RESET_SIZE);
    out[0] = 0x40 | (out[0]! & 0x3f); // fixed bit set, short header form
    this.token(cid).copy(out, RESET_SIZE - 16);
    return out;
  }
}
