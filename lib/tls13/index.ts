/**
 * TLS 1.3 pieces for QUIC (#32, in progress): the key schedule's HKDF, alerts, and the ClientHello reader.
 */
export { hkdfExpand, hkdfExpandLabel, hkdfExtract, HASH_LENGTH, type HashName } from './hkdf.js';
export { Alert, TlsAlert, type AlertCode } from './alert.js';
export {
  chooseCipherSuite,
  CIPHER_SUITES,
  TLS_AES_128_GCM_SHA256,
  TLS_AES_256_GCM_SHA384,
  TLS_CHACHA20_POLY1305_SHA256,
  type CipherSuite,
} from './cipher-suite.js';
export {
  EXT_ALPN,
  EXT_KEY_SHARE,
  EXT_QUIC_TRANSPORT_PARAMETERS,
  EXT_SERVER_NAME,
  EXT_SUPPORTED_GROUPS,
  EXT_SUPPORTED_VERSIONS,
  GROUP_SECP256R1,
  GROUP_X25519,
  parseClientHello,
  type ClientHello,
} from './client-hello.js';
export { deriveSecret, handshakeSecrets, keyExchange, transcriptHash, x25519KeyPair, x25519Shared, type X25519KeyPair } from './key-schedule.js';
export { helloRetryRequest, HRR_RANDOM, messageHash, serverHello, type ServerHelloParts } from './server-hello.js';
export { applicationSecrets, certificateMessage, certificateVerify, checkClientFinished, encryptedExtensions, finishedData, handshakeMessage, pemCertificates, signatureScheme } from './server-flight.js';
