/**
 * One error type for the whole library. Callers switch on `code`; the other fields name what failed
 * (the step, rule, artifact, key or JSON field), so a message never has to be parsed.
 */

/** Every code the library throws or reports. Stable: callers may switch on these. */
export type ErrorCode =
  // input documents
  | 'JSON' // bytes that are not the strict JSON we accept (see `offset`, `engineCode`)
  | 'FORMAT' // well-formed JSON that is not valid in-toto metadata (see `field`)
  | 'LIMIT' // a configured size, depth or count limit was exceeded
  | 'IO' // a file that cannot be read or written, a command that cannot be started (see `path`, `cause`)
  // keys and signatures
  | 'KEY' // a key that cannot be read, or is of an unsupported type or scheme
  | 'KEY_PASSWORD' // an encrypted private key without the right password
  | 'KEY_EXPIRED' // an OpenPGP key (or its primary key) past its expiration time
  | 'SIGNATURE' // a signature that is missing, malformed or does not verify
  | 'UNSUPPORTED' // a feature this runtime cannot provide (e.g. RSA signing without WebCrypto)
  // the engine itself
  | 'ENGINE' // the WASM engine trapped or could not be loaded; it is re-instantiated afterwards
  // verification verdict
  | 'LAYOUT_EXPIRED'
  | 'THRESHOLD'
  | 'RULE_MATCH'
  | 'RULE_DISALLOW'
  | 'RULE_REQUIRE'
  | 'LINK_MISSING'
  | 'LINKS_DISAGREE'
  | 'INSPECTION'
  | 'INSPECTION_REFUSED'; // an inspection not written by the root layout's owner, refused as asked

export interface ErrorDetail {
  /** Dotted path of the offending field, e.g. `signed.steps[2].threshold`. */
  field?: string;
  /** Byte offset into the input, for JSON errors. */
  offset?: number;
  /** The engine's numeric error code (see docs/ABI.md), for JSON errors. */
  engineCode?: number;
  step?: string;
  rule?: string;
  artifact?: string;
  keyid?: string;
  /** The file the error concerns, when the host read one. */
  path?: string;
}

export class InTotoError extends Error implements ErrorDetail {
  readonly code: ErrorCode;
  field?: string;
  offset?: number;
  engineCode?: number;
  step?: string;
  rule?: string;
  artifact?: string;
  keyid?: string;
  path?: string;

  constructor(code: ErrorCode, message: string, detail: ErrorDetail = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InTotoError';
    this.code = code;
    Object.assign(this, detail);
  }
}

/** Labelled argument checks for programming mistakes (not for attacker-controlled data). */
export function abytes(value: unknown, label: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${label} must be a Uint8Array`);
  return value;
}
