/**
 * TLS alerts (RFC 8446 §6): a handshake failure is a typed error carrying the alert to send — in QUIC, as
 * CRYPTO_ERROR 0x0100 + the alert (RFC 9001 §4.8).
 */
export const Alert = {
  unexpected_message: 10,
  handshake_failure: 40,
  illegal_parameter: 47,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  internal_error: 80,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  no_application_protocol: 120,
} as const;

export type AlertCode = (typeof Alert)[keyof typeof Alert];

/**
 * A handshake failure carrying the alert to send (in QUIC: CRYPTO_ERROR 0x0100 + alert, RFC 9001 §4.8).
 *
 * @example
 * ```ts
 * throw new TlsAlert(Alert.no_application_protocol, 'the client offers no ALPN we serve');
 * ```
 */
export class TlsAlert extends Error {
  override name = 'TlsAlert';
  readonly alert: AlertCode;
  constructor(alert: AlertCode, message: string) {
    super(message);
    this.alert = alert;
  }
}
