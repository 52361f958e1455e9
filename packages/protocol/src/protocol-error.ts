/** Stable, public error codes of the protocol package: what a request or an environment got wrong. */
export type ProtocolErrorCode =
  'BAD_REQUEST' | 'BODY_TOO_LARGE' | 'INVALID_TENANT_ID' | 'INVALID_CONFIG'

/**
 * Base error of the protocol package: a stable `code` plus the `cause` it wraps. The request
 * helpers throw it for a body that breaks the contract, so the control plane and the worker
 * refuse bad input with the same code and words.
 */
export class ProtocolError extends Error {
  override name = 'ProtocolError'
  readonly code: ProtocolErrorCode

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
