/**
 * Transport parameters (RFC 9000 §18): a sequence of (id, length, value), carried in TLS's
 * `quic_transport_parameters` extension. Each known one is checked for its form and range (§18.2), none
 * may repeat, and a client may not send the ones only a server sends; any breach is
 * TRANSPORT_PARAMETER_ERROR (§7.4). Unknown ids are ignored, as they must be (§18.1, greasing).
 */
import { own } from './owned.js';
import { readVarint, varintLength, writeVarint } from './varint.js';

/**
 * TRANSPORT_PARAMETER_ERROR (RFC 9000 §20.1).
 *
 * @example
 * ```ts
 * try {
 *   parseTransportParameters(extension, 'client');
 * } catch (err) {
 *   if (err instanceof TransportParameterError) closeWith(0x08, err.message); // TRANSPORT_PARAMETER_ERROR
 * }
 * ```
 */
export class TransportParameterError extends Error {
  override name = 'TransportParameterError';
  readonly code = 0x08;
}

export interface TransportParameters {
  originalDestinationConnectionId?: Buffer;
  maxIdleTimeout: number;
  statelessResetToken?: Buffer;
  maxUdpPayloadSize: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  ackDelayExponent: number;
  maxAckDelay: number;
  disableActiveMigration: boolean;
  activeConnectionIdLimit: number;
  initialSourceConnectionId?: Buffer;
  retrySourceConnectionId?: Buffer;
}

/** The defaults of §18.2, for parameters not sent. */
export const DEFAULT_TRANSPORT_PARAMETERS: TransportParameters = {
  maxIdleTimeout: 0,
  maxUdpPayloadSize: 65527,
  initialMaxData: 0,
  initialMaxStreamDataBidiLocal: 0,
  initialMaxStreamDataBidiRemote: 0,
  initialMaxStreamDataUni: 0,
  initialMaxStreamsBidi: 0,
  initialMaxStreamsUni: 0,
  ackDelayExponent: 3,
  maxAckDelay: 25,
  disableActiveMigration: false,
  activeConnectionIdLimit: 2,
};

type Key = keyof TransportParameters;
const VARINTS: Array<[number, Key]> = [
  [0x01, 'maxIdleTimeout'],
  [0x03, 'maxUdpPayloadSize'],
  [0x04, 'initialMaxData'],
  [0x05, 'initialMaxStreamDataBidiLocal'],
  [0x06, 'initialMaxStreamDataBidiRemote'],
  [0x07, 'initialMaxStreamDataUni'],
  [0x08, 'initialMaxStreamsBidi'],
  [0x09, 'initialMaxStreamsUni'],
  [0x0a, 'ackDelayExponent'],
  [0x0b, 'maxAckDelay'],
  [0x0e, 'activeConnectionIdLimit'],
];
const CIDS: Array<[number, Key]> = [
  [0x00, 'originalDestinationConnectionId'],
  [0x0f, 'initialSourceConnectionId'],
  [0x10, 'retrySourceConnectionId'],
];
/** Parameters only a server sends (§18.2). */
const SERVER_ONLY = new Set([0x00, 0x02, 0x0d, 0x10]);

/**
 * Parses the parameters `sender` sent.
 *
 * @example
 * ```ts
 * const params = parseTransportParameters(clientHello.transportParameters!, 'client');
 * ```
 */
export function parseTransportParameters(b: Buffer, sender: 'client' | 'server'): TransportParameters {
  const out: TransportParameters = { ...DEFAULT_TRANSPORT_PARAMETERS };
  const seen = new Set<number>();
  let i = 0;
  const fail = (msg: string): never => {
    throw new TransportParameterError(`transport parameters: ${msg}`);
  };
  while (i < b.length) {
    let id: number;
    let len: number;
    try {
      const a = readVarint(b, i, true); // reserved ids (31 × N + 27, §18.1) reach 2^62
      const l = readVarint(b, a.next);
      id = a.value;
      len = l.value;
      i = l.next;
    } catch {
      return fail('truncated');
    }
    if (i + len > b.length) fail(`parameter 0x${id.toString(16)} runs past the end`);
    const v = b.subarray(i, i + len);
    i += len;
    if (seen.has(id)) fail(`parameter 0x${id.toString(16)} sent twice`);
    seen.add(id);
    if (sender === 'client' && SERVER_ONLY.has(id)) fail(`a client sent server-only parameter 0x${id.toString(16)}`);
    const varint = VARINTS.find(([n]) => n === id);
    if (varint !== undefined) {
      let value: number;
      try {
        const r = readVarint(v, 0);
        if (r.next !== v.length) throw new Error('extra bytes');
        value = r.value;
      } catch {
        return fail(`parameter 0x${id.toString(16)} is not one varint`);
      }
      (out as unknown as Record<string, number>)[varint[1]] = value;
      continue;
    }
    const cid = CIDS.find(([n]) => n === id);
    if (cid !== undefined) {
      if (v.length > 20) fail(`connection id parameter 0x${id.toString(16)} longer than 20 bytes`);
      (out as unknown as Record<string, Buffer>)[cid[1]] = own(v);
      continue;
    }
    if (id === 0x02) {
      if (v.length !== 16) fail('stateless_reset_token is not 16 bytes');
      out.statelessResetToken = own(v);
    } else if (id === 0x0c) {
      if (v.length !== 0) fail('disable_active_migration carries a value');
      out.disableActiveMigration = true;
    }
    // 0x0d preferred_address (server only) and unknown parameters: not used here; ignored.
  }
  // §18.2: the ranges.
  if (out.maxUdpPayloadSize < 1200) fail(`max_udp_payload_size ${out.maxUdpPayloadSize} below 1200`);
  if (out.ackDelayExponent > 20) fail(`ack_delay_exponent ${out.ackDelayExponent} above 20`);
  if (out.maxAckDelay >= 2 ** 14) fail(`max_ack_delay ${out.maxAckDelay} not below 2^14`);
  if (out.activeConnectionIdLimit < 2) fail(`active_connection_id_limit ${out.activeConnectionIdLimit} below 2`);
  if (out.initialMaxStreamsBidi > 2 ** 60 || out.initialMaxStreamsUni > 2 ** 60) fail('initial_max_streams past 2^60');
  // §7.3: both sides authenticate the connection ids they chose.
  if (out.initialSourceConnectionId === undefined) fail('initial_source_connection_id is missing');
  if (sender === 'server' && out.originalDestinationConnectionId === undefined) fail('original_destination_connection_id is missing');
  return out;
}

/**
 * Encodes parameters (those that differ from the defaults, and the connection ids).
 *
 * @example
 * ```ts
 * const ext = encodeTransportParameters({
 *   originalDestinationConnectionId: odcid, initialSourceConnectionId: ourCid, maxIdleTimeout: 30_000, initialMaxData: 1 << 20,
 * });
 * ```
 */
export function encodeTransportParameters(p: Partial<TransportParameters>): Buffer {
  const parts: Buffer[] = [];
  const put = (id: number, value: Buffer): void => {
    const head = Buffer.alloc(varintLength(id) + varintLength(value.length));
    writeVarint(head, writeVarint(head, 0, id), value.length);
    parts.push(head, value);
  };
  for (const [id, key] of CIDS) {
    const v = p[key] as Buffer | undefined;
    if (v !== undefined) put(id, v);
  }
  if (p.statelessResetToken !== undefined) put(0x02, p.statelessResetToken);
  for (const [id, key] of VARINTS) {
    const v = p[key] as number | undefined;
    if (v === undefined || v === DEFAULT_TRANSPORT_PARAMETERS[key]) continue;
    const b = Buffer.alloc(varintLength(v));
    writeVarint(b, 0, v);
    put(id, b);
  }
  if (p.disableActiveMigration === true) put(0x0c, Buffer.alloc(0));
  return Buffer.concat(parts);
}
