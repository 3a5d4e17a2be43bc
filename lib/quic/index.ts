/**
 * `covet/quic` (in progress, #32): QUIC version 1 on node:dgram. This first stage holds the packet layer a
 * handshake starts from: varints, long headers, Initial keys, header and payload protection.
 */
export { encodeVarint, readVarint, varintLength, VarintError, writeVarint } from './varint.js';
export { initialKeys, INITIAL_SALT_V1, packetKeys, type PacketKeys } from './initial.js';
export { decodePacketNumber, headerMask, open, PacketProtectionError, seal, type Aead } from './protection.js';
export { PACKET_0RTT, PACKET_HANDSHAKE, PACKET_INITIAL, PACKET_RETRY, PacketError, parseLongHeader, unprotect, type LongHeader, type OpenedPacket } from './packet.js';
export { DEFAULT_TRANSPORT_PARAMETERS, encodeTransportParameters, parseTransportParameters, TransportParameterError, type TransportParameters } from './transport-params.js';
export { buildLongPacket, buildShortPacket, type LongPacket } from './packet-builder.js';
export { FrameError, readFrames, type Frame } from './frames.js';
export { BUFFER_EXCEEDED, FINAL_SIZE_ERROR, Reassembly, StreamDataError } from './reassembly.js';
export { AckTracker } from './ack-tracker.js';
export { ServerConnection, type ServerConnectionOptions } from './connection.js';
export { QuicConnectionError } from './errors.js';
export { CIPHER_SUITES, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, type CipherSuite } from '../tls13/cipher-suite.js';
export { QuicStream, type StreamOwner } from './stream.js';
export { Recovery, type Retransmittable } from './recovery.js';
export { NewReno } from './congestion.js';
export { Cubic } from './cubic.js';
export { QuicServer, type QuicServerOptions } from './endpoint.js';
export { buildRetry, retryIntegrityTag, RetryTokens, type RetryTokenInfo } from './retry.js';
export { StatelessResets } from './stateless-reset.js';
